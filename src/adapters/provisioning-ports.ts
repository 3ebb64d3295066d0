// Builds the provisioning ports from the real adapters (providers, SSH over ssh2).
import type { Deps } from "../deps.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";
import { createProvider } from "./provider/factory.js";
import { connectVm } from "./provider/connect-vm.js";
import { createSsh2Client } from "./ssh/ssh2.js";

export function createProvisioningPorts(deps: Deps): ProvisioningPorts {
  const ssh = createSsh2Client({ connectTimeoutMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 });
  return {
    provider: (kind) => createProvider(deps, kind),
    connect: (provider, vm, deadlineMs) => connectVm(ssh, provider, vm, deadlineMs),
  };
}
