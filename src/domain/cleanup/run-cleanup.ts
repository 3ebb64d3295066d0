// The daily cleanup: terminates exactly what the plan says (each through the terminate command,
// which checks the rules again), and keeps going past one that fails.
import type { Deps } from "../../deps.js";
import type { VmProvider } from "../provisioning/ports.js";
import { terminateAppServer } from "../appservers/terminate-appserver.js";
import { announceAppServer } from "../appservers/publish-status.js";
import { getCleanupPlan } from "./get-cleanup-plan.js";

export interface CleanupOutcome {
  terminated: number[];
  failed: { id: number; message: string }[];
}

export async function runCleanup(deps: Deps, input: { provider(kind: string): VmProvider }): Promise<CleanupOutcome> {
  const plan = await getCleanupPlan(deps);
  const outcome: CleanupOutcome = { terminated: [], failed: [] };
  for (const item of plan.filter((p) => !p.fate.keep)) {
    try {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: item.id }, select: { providerKind: true } });
      await terminateAppServer(deps, { appServerId: item.id, actor: { id: null, login: "ocim cleanup" }, provider: input.provider(row.providerKind), reason: item.fate.reason });
      await announceAppServer(deps, item.id);
      outcome.terminated.push(item.id);
    } catch (err) {
      outcome.failed.push({ id: item.id, message: (err as Error).message });
    }
  }
  deps.log.info({ terminated: outcome.terminated.length, failed: outcome.failed.length }, "cleanup.done");
  return outcome;
}
