// The provisioning job (DESIGN §5): named steps (steps.ts, provision-steps.ts), each idempotent and
// recorded with its start and end, so a worker that dies is replaced by another that re-runs only
// the step it was in. The status follows the steps: new → waiting (create-vm), → configuring
// (wait-vm), → failed (finish, the playbook failed), → running | failed (wait-heartbeat: /heartbeat
// answered 200, or not by the deadline). A failed VM is kept for debugging; a VM that never came
// up is deleted.
import type { Deps } from "../../deps.js";
import { readSnapshot } from "../appservers/config-snapshot.js";
import { FINAL_STATUSES } from "../appservers/lifecycle.js";
import { AppError } from "../../errors.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import type { ProvisioningPorts, Vm, VmShell } from "./ports.js";
import { connectAppServer } from "./connect-appserver.js";
import { remotePaths } from "./remote.js";
import { createRunLog } from "./run-log.js";
import { countEndedStep, currentStep } from "./steps.js";
import { beginStep, STEP_RUNS, type StepContext } from "./provision-steps.js";

export { PlaybookNotStarted, vmNameFor } from "./provision-steps.js";

export interface ProvisionOptions {
  /** Aborted when the worker shuts down: the job stops where it is and resumes later. */
  signal?: AbortSignal;
  pollMs?: number;
}

export async function provisionAppServer(deps: Deps, input: { appServerId: number }, ports: ProvisioningPorts, opts: ProvisionOptions = {}): Promise<string> {
  const id = input.appServerId;
  const as = await deps.db.appServer.findUnique({ where: { id } });
  if (!as) return "gone";
  if (FINAL_STATUSES.includes(as.status)) return as.status;
  const snapshot = readSnapshot(as.configSnapshot, as.name);
  const log = createRunLog(deps, id, snapshotSecrets(snapshot));
  const provider = ports.provider(as.providerKind);
  let vm: Vm | null = null;
  let shell: VmShell | null = null;
  const ctx: Omit<StepContext, "resumed"> = {
    deps, id, number: as.number, snapshot, provider, providerKind: as.providerKind, log, signal: opts.signal, pollMs: opts.pollMs,
    async vm() {
      if (vm) return vm;
      const { providerServerId } = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { providerServerId: true } });
      const found = await provider.getServer(providerServerId ?? "");
      if (!found) throw new AppError("unavailable", `The provider no longer knows the VM ${providerServerId}.`);
      // Kept for the run only once it is ready: a VM still booting has no address yet, and the
      // steps after wait-vm must see the address it got.
      if (found.status === "ready") vm = found;
      return found;
    },
    async shell() {
      shell ??= await connectAppServer(deps, ports, { appServerId: id, provider, vm: await this.vm(), deadlineMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 });
      return shell;
    },
    async paths() {
      return remotePaths((await this.vm()).workDir);
    },
  };
  try {
    for (;;) {
      // A worker shutting down stops between steps; the next job starts at the step after.
      opts.signal?.throwIfAborted();
      const step = await currentStep(deps, id);
      const { status } = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { status: true } });
      if (!step || FINAL_STATUSES.includes(status)) return status;
      const spec = STEP_RUNS[step.name];
      if (!spec.runsIn.includes(status)) throw new AppError("internal", `Step ${step.name} cannot run while the appserver is ${status}.`);
      await beginStep(deps, id, step.name);
      let stop: Awaited<ReturnType<typeof spec.run>>;
      try {
        stop = await spec.run({ ...ctx, resumed: step.started });
      } finally {
        await countEndedStep(deps, id, step.name, snapshot.recipe).catch((err) => deps.log.warn({ err }, "metrics.step_not_counted"));
      }
      if (stop) return stop;
    }
  } finally {
    await (shell as VmShell | null)?.close();
    await log.close();
  }
}
