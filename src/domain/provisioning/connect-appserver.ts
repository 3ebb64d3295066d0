// Every SSH connection to an appserver's VM goes through here (the provisioning job, its resume,
// stop-playbook, the SSH access sync). The VM's host key is recorded at the first connection, and
// every later one must see the same key: a man in the middle, or another machine now answering at
// that address, is refused during the handshake, before any command runs on it.
import type { Deps } from "../../deps.js";
import { SshError } from "../../adapters/ssh/port.js";
import type { ProvisioningPorts, Vm, VmProvider, VmShell } from "./ports.js";

export interface ConnectAppServerInput {
  appServerId: number;
  provider: VmProvider;
  vm: Vm;
  deadlineMs: number;
}

export async function connectAppServer(deps: Pick<Deps, "db" | "log">, ports: ProvisioningPorts, input: ConnectAppServerInput): Promise<VmShell> {
  const { appServerId: id, vm } = input;
  const as = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { name: true, hostKeyFingerprint: true } });
  let shell: VmShell;
  try {
    shell = await ports.connect(input.provider, vm, input.deadlineMs, as.hostKeyFingerprint ?? undefined);
  } catch (err) {
    if (!(err instanceof SshError && err.reason === "host_key")) throw err;
    deps.log.warn({ event: "appserver.host_key.changed", appServerId: id, expected: as.hostKeyFingerprint, why: err.message }, "appserver.host_key.changed");
    throw new SshError("host_key", changedKeyMessage(as.name, err.message));
  }
  if (as.hostKeyFingerprint) return shell;
  // Only where none is recorded yet: of two first connections at once (the job and the sync),
  // the first records the key and the second must have seen the same one.
  const { count } = await deps.db.appServer.updateMany({ where: { id, hostKeyFingerprint: null }, data: { hostKeyFingerprint: shell.hostKeyFingerprint } });
  if (count === 0) {
    const { hostKeyFingerprint: recorded } = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { hostKeyFingerprint: true } });
    if (recorded !== shell.hostKeyFingerprint) {
      await shell.close();
      throw new SshError("host_key", changedKeyMessage(as.name, `The host key of ${vm.publicIp}:${vm.sshPort} is ${shell.hostKeyFingerprint}, not the expected ${recorded}.`));
    }
  } else {
    deps.log.info({ event: "appserver.host_key.recorded", appServerId: id, fingerprint: shell.hostKeyFingerprint }, "appserver.host_key.recorded");
  }
  return shell;
}

function changedKeyMessage(name: string, detail: string): string {
  return (
    `Refused to connect to ${name}: its VM's SSH host key has changed since Ocim first connected. ${detail} ` +
    "Nothing was run on the VM. Either someone is intercepting the connection (a man in the middle), or the VM " +
    "was reinstalled or replaced at the same address. Compare with the key the VM's console shows " +
    "(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub); if the VM was reinstalled, terminate this appserver and launch a new one."
  );
}
