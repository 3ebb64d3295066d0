// Builds the provisioning ports from the real adapters (providers, SSH over ssh2). The domain names
// this shape ProvisioningPorts (src/domain/provisioning/ports.ts); adapters do not import the
// domain (tests/architecture.test.ts).
import type { Provider, ServerInfo } from "./provider/port.js";
import type { SshSession } from "./ssh/port.js";
import { createProvider, type ProviderDeps } from "./provider/factory.js";
import { connectVm } from "./provider/connect-vm.js";
import { createSsh2Client } from "./ssh/ssh2.js";

/** What provisioning needs from the outside world: a provider to make VMs and a shell on the VM. */
export interface ProvisioningAdapters {
  provider(kind: string): Provider;
  /** Refuses (SshError "host_key") a VM whose host key is not hostKeyFingerprint, when given. */
  connect(provider: Provider, vm: ServerInfo, deadlineMs: number, hostKeyFingerprint?: string): Promise<SshSession>;
}

export function createProvisioningPorts(deps: ProviderDeps): ProvisioningAdapters {
  const ssh = createSsh2Client({ connectTimeoutMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 });
  return {
    provider: (kind) => createProvider(deps, kind),
    connect: (provider, vm, deadlineMs, hostKeyFingerprint) => connectVm(ssh, provider, vm, deadlineMs, hostKeyFingerprint),
  };
}
