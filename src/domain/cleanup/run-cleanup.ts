// The daily cleanup: terminates exactly what the plan says (each through the terminate command,
// which checks the rules again and queues the VM delete through the outbox), and keeps going past
// one that fails.
import type { Deps } from "../../deps.js";
import { terminateAppServer } from "../appservers/terminate-appserver.js";
import { getCleanupPlan } from "./get-cleanup-plan.js";

export interface CleanupOutcome {
  terminated: number[];
  failed: { id: number; message: string }[];
}

export async function runCleanup(deps: Deps): Promise<CleanupOutcome> {
  const plan = await getCleanupPlan(deps);
  const outcome: CleanupOutcome = { terminated: [], failed: [] };
  for (const item of plan.filter((p) => !p.fate.keep)) {
    try {
      await terminateAppServer(deps, { appServerId: item.id, actor: { id: null, login: "ocim cleanup" }, reason: item.fate.reason });
      outcome.terminated.push(item.id);
    } catch (err) {
      outcome.failed.push({ id: item.id, message: (err as Error).message });
    }
  }
  deps.log.info({ terminated: outcome.terminated.length, failed: outcome.failed.length }, "cleanup.done");
  return outcome;
}
