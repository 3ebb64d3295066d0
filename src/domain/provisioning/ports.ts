// What provisioning needs from the outside world: a provider to make VMs and a shell on the VM.
import type { Provider, ServerInfo } from "../../adapters/provider/port.js";
import type { SshSession } from "../../adapters/ssh/port.js";

export type Vm = ServerInfo;
export type VmProvider = Provider;
export type VmShell = SshSession;

export interface ProvisioningPorts {
  provider(kind: string): Provider;
  connect(provider: Provider, vm: ServerInfo, deadlineMs: number): Promise<SshSession>;
}
