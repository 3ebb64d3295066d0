// The follow-up of a cancel (lifecycle "cancelled"): stops the playbook on the VM. The job tailing
// the playbook stops it too when it notices the cancel; this one also covers a cancel that no job
// was watching (the worker down, the job waiting for its retry), which would otherwise leave the
// playbook reconfiguring the VM for hours. Idempotent: nothing started or already ended is a no-op.
import type { Deps } from "../../deps.js";
import type { ProvisioningPorts, VmShell } from "./ports.js";
import { connectAppServer } from "./connect-appserver.js";
import { killCommand, remotePaths, type RemotePaths } from "./remote.js";
import { createRunLog, type RunLog } from "./run-log.js";

export async function stopPlaybook(deps: Deps, input: { appServerId: number }, ports: ProvisioningPorts): Promise<string> {
  const id = input.appServerId;
  const as = await deps.db.appServer.findUnique({ where: { id }, select: { providerKind: true, providerServerId: true, vmStatus: true } });
  if (!as) return "gone";
  const started = await deps.db.appServerStep.count({ where: { appServerId: id, name: "start-playbook" } });
  if (!started || !as.providerServerId || as.vmStatus === "terminated") return "No playbook was started.";
  const provider = ports.provider(as.providerKind);
  const vm = await provider.getServer(as.providerServerId);
  if (!vm) return "The VM is gone.";
  const shell = await connectAppServer(deps, ports, { appServerId: id, provider, vm, deadlineMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 });
  const log = createRunLog(deps, id, []);
  try {
    return (await stopCancelledPlaybook(shell, remotePaths(vm.workDir), log)) ? "The playbook was stopped." : "The playbook had already ended.";
  } finally {
    await log.close();
    await shell.close();
  }
}

/**
 * Kills the playbook of a cancelled appserver; true when it was still running. Both this job and the
 * job tailing the playbook call it, often both: only the one that stopped it writes the log line.
 */
export async function stopCancelledPlaybook(shell: VmShell, paths: RemotePaths, log: RunLog): Promise<boolean> {
  const res = await shell.exec(killCommand(paths), { timeoutMs: 30_000 });
  if (!res.stdout.includes("stopped")) return false;
  await log.warn("Provisioning was cancelled; the playbook was stopped on the VM. The VM is kept.");
  return true;
}
