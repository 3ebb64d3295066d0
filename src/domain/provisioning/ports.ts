// What provisioning needs from the outside world: a provider to make VMs and a shell on the VM.
import type { Provider, ServerInfo } from "../../adapters/provider/port.js";
import type { SshSession } from "../../adapters/ssh/port.js";
import type { ProvisioningAdapters } from "../../adapters/provisioning-ports.js";

export type Vm = ServerInfo;
export type VmProvider = Provider;
export type VmShell = SshSession;

/** A provider to make VMs and a shell on the VM; the real ones come from the adapters. */
export type ProvisioningPorts = ProvisioningAdapters;
