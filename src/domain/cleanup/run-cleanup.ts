// The daily cleanup: terminates exactly what the plan says (each through the terminate command,
// which checks the rules again and queues the VM delete through the outbox), and keeps going past
// one that fails. A closed pull request's sandbox, once its days are up, has its active appserver
// deactivated first (allowed: it has a pull request, DESIGN §9), and is archived once nothing of it
// is left running (docs/pr-sandboxes.md).
import type { Deps } from "../../deps.js";
import { terminateAppServer } from "../appservers/terminate-appserver.js";
import { deactivateAppServer } from "../appservers/activation.js";
import { archiveExpiredSandboxes } from "../sandboxes/archive-expired-sandboxes.js";
import { getCleanupPlan } from "./get-cleanup-plan.js";

export interface CleanupOutcome {
  terminated: number[];
  failed: { id: number; message: string }[];
  /** Sandboxes of closed pull requests archived. */
  archived: number[];
}

export const CLEANUP_ACTOR = { id: null, login: "ocim cleanup" };

export async function runCleanup(deps: Deps): Promise<CleanupOutcome> {
  const plan = await getCleanupPlan(deps);
  const outcome: CleanupOutcome = { terminated: [], failed: [], archived: [] };
  for (const item of plan.filter((p) => !p.fate.keep)) {
    try {
      if (item.isActive) await deactivateAppServer(deps, { appServerId: item.id, actor: CLEANUP_ACTOR });
      await terminateAppServer(deps, { appServerId: item.id, actor: CLEANUP_ACTOR, reason: item.fate.reason });
      outcome.terminated.push(item.id);
    } catch (err) {
      outcome.failed.push({ id: item.id, message: (err as Error).message });
    }
  }
  const sandboxes = await archiveExpiredSandboxes(deps, CLEANUP_ACTOR);
  outcome.archived = sandboxes.archived;
  outcome.failed.push(...sandboxes.failed);
  deps.log.info({ terminated: outcome.terminated.length, archived: outcome.archived.length, failed: outcome.failed.length }, "cleanup.done");
  return outcome;
}
