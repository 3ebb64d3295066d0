// The page and the API run appserver actions the same way: as a job, waiting a while for its
// outcome so the person gets the command's own message (a refusal says why).
import type { Deps } from "../../deps.js";
import { JOB } from "../../jobs/names.js";
import type { ActionOutcome } from "../../jobs/queues.js";
import { notFound } from "../../errors.js";

export const ACTIONS = {
  activate: { job: JOB.activateAppServer, deactivateOthers: false },
  "activate-exclusively": { job: JOB.activateAppServer, deactivateOthers: true },
  deactivate: { job: JOB.deactivateAppServer },
  terminate: { job: JOB.terminateAppServer },
} as const;

export type ActionName = keyof typeof ACTIONS;

/** How long a request waits for the action's job before answering "still working". */
export const ACTION_WAIT_MS = 30_000;

export async function runAppServerAction(deps: Pick<Deps, "jobs" | "db">, name: ActionName, input: { appServerId: number; actorId: number }): Promise<ActionOutcome> {
  const action = ACTIONS[name];
  if (!(await deps.db.appServer.count({ where: { id: input.appServerId } }))) throw notFound("AppServer");
  const base = { appServerId: input.appServerId, actorId: input.actorId };
  if (action.job === JOB.activateAppServer) {
    return deps.jobs.run(JOB.activateAppServer, { ...base, deactivateOthers: "deactivateOthers" in action && action.deactivateOthers }, ACTION_WAIT_MS);
  }
  return deps.jobs.run(action.job, base, ACTION_WAIT_MS);
}
