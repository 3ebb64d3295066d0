// A shell on a provider's VM: its address and SSH port from the provider's answer, the login
// from the provider (the local provider's own key, or the OpenStack account's key pair).
import type { SshClient, SshSession } from "../ssh/port.js";
import { ProviderError, type Provider, type ServerInfo } from "./port.js";

/** hostKeyFingerprint: the key recorded at the first connection; unset accepts any and reports it. */
export async function connectVm(ssh: SshClient, provider: Provider, vm: ServerInfo, deadlineMs: number, hostKeyFingerprint?: string): Promise<SshSession> {
  if (!vm.publicIp) throw new ProviderError(`The VM ${vm.name} has no address yet.`, true);
  return ssh.connect({ host: vm.publicIp, port: vm.sshPort, ...(await provider.sshLogin()), deadlineMs, ...(hostKeyFingerprint ? { hostKeyFingerprint } : {}) });
}
