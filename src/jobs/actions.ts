// Appserver actions as jobs. Activate, deactivate and terminate now run in the request
// (src/web/routes/run-appserver-action.ts); these handlers remain for jobs of those names queued
// before that change (job names are a public contract), and run the same commands.
import type { Deps } from "../deps.js";
import type { Actor } from "../domain/audit/record-audit-event.js";
import { activateAppServer, deactivateAppServer } from "../domain/appservers/activation.js";
import { terminateAppServer } from "../domain/appservers/terminate-appserver.js";
import { applyLoadBalancer, type ApplyResult } from "../domain/loadbalancer/apply-load-balancer.js";
import { reconcileLoadBalancers, type ReconcileOutcome } from "../domain/loadbalancer/reconcile-load-balancers.js";
import { advanceRollout, unfinishedRollouts, type AdvanceOutcome } from "../domain/rollouts/advance-rollout.js";
import { JOB } from "./names.js";
import type { Payload } from "./payloads.js";

async function actorOf(deps: Pick<Deps, "db">, actorId: number | null): Promise<Actor> {
  if (actorId === null) return { id: null, login: "ocim" };
  const user = await deps.db.user.findUnique({ where: { id: actorId }, select: { githubLogin: true } });
  return { id: actorId, login: user?.githubLogin ?? `user ${actorId}` };
}

/**
 * Applies, soon, every balancer whose configuration is ahead of what it runs: after a change of
 * instances (domains, balancer, archived, deleted) that bumped their versions, so it does not wait
 * for the next lb-sync. One job per second at most: a burst of edits makes one apply.
 */
export async function enqueueBalancerSync(deps: Pick<Deps, "jobs" | "now">): Promise<void> {
  await deps.jobs.enqueue(JOB.lbSync, {}, { jobId: `${JOB.lbSync}-soon-${Math.floor(deps.now().getTime() / 1000)}`, attempts: 1 });
}

/**
 * An apply deferred by the balancer's reload interval (LB_MIN_RELOAD_INTERVAL_SECONDS) comes back as
 * one delayed job: every apply deferred to the same moment names the same job id, so they fold into
 * one, which renders whatever version is newest when it runs.
 */
async function retryDeferred(deps: Pick<Deps, "jobs" | "now" | "log">, loadBalancerId: number, result: ApplyResult | undefined): Promise<void> {
  if (result?.outcome !== "deferred" || !result.retryInMs) return;
  const at = Math.ceil((deps.now().getTime() + result.retryInMs) / 1000);
  const jobId = `${JOB.applyLoadBalancer}-${loadBalancerId}-at-${at}`;
  await deps.jobs.enqueue(JOB.applyLoadBalancer, { loadBalancerId }, { jobId, delay: result.retryInMs, attempts: 1 });
  deps.log.info({ loadBalancerId, waitMs: result.retryInMs, jobId }, "lb.apply.deferred");
}

export async function runApplyLoadBalancer(deps: Deps, p: Payload<typeof JOB.applyLoadBalancer>): Promise<ApplyResult> {
  const result = await applyLoadBalancer(deps, p);
  await retryDeferred(deps, p.loadBalancerId, result);
  return result;
}

export async function runReconcileLoadBalancers(deps: Deps): Promise<ReconcileOutcome[]> {
  const outcomes = await reconcileLoadBalancers(deps);
  for (const o of outcomes) await retryDeferred(deps, o.loadBalancerId, o.result);
  return outcomes;
}

export async function runActivate(deps: Deps, p: Payload<typeof JOB.activateAppServer>): Promise<string> {
  await activateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId), deactivateOthers: p.deactivateOthers });
  return "Activated.";
}

export async function runDeactivate(deps: Deps, p: Payload<typeof JOB.deactivateAppServer>): Promise<string> {
  await deactivateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId) });
  return "Deactivated.";
}

export async function runTerminate(deps: Deps, p: Payload<typeof JOB.terminateAppServer>): Promise<string> {
  await terminateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId) });
  return "Terminated; the VM is being deleted.";
}

/** How long an advance of a roll-out that another job is advancing waits before it tries again. */
const BUSY_RETRY_MS = 2000;

/**
 * Moves a roll-out on. When another job is doing so right now, this one comes back as a delayed job
 * (every such retry of the same moment folds into one): what made it run (a launch that ended) may
 * have happened after the other job looked.
 */
export async function runAdvanceRollout(deps: Deps, p: Payload<typeof JOB.advanceRollout>): Promise<AdvanceOutcome> {
  const outcome = await advanceRollout(deps, p);
  if (outcome.status === "busy") {
    const at = Math.ceil((deps.now().getTime() + BUSY_RETRY_MS) / 1000);
    await deps.jobs.enqueue(JOB.advanceRollout, p, { jobId: `${JOB.advanceRollout}-${p.rolloutId}-at-${at}`, delay: BUSY_RETRY_MS, attempts: 3 });
  }
  return outcome;
}

/** Every unfinished roll-out moved on; one that another job is moving on right now is left to it. */
export async function runAdvanceRollouts(deps: Deps): Promise<Record<number, AdvanceOutcome>> {
  const outcomes: Record<number, AdvanceOutcome> = {};
  for (const rolloutId of await unfinishedRollouts(deps)) outcomes[rolloutId] = await advanceRollout(deps, { rolloutId });
  return outcomes;
}
