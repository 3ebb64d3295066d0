// How often the haproxy of an `ssh` balancer may reload. Every reload of a shared host forks a new
// worker for every site on it while the old ones finish their connections (up to the operator's
// hard-stop-after), and resets what haproxy learnt at run time unless the operator keeps server
// state (docs/load-balancer.md); a burst of changes (ten appservers activated in a row) should cost
// one reload, not ten. The time of the last reload lives in Redis beside the balancer's lock, read
// with the injected clock.
import type { Deps } from "../../deps.js";
import { JOB } from "../../jobs/names.js";

type IntervalDeps = Pick<Deps, "config" | "redis" | "now" | "jobs" | "log">;

function lastReloadKey(loadBalancerId: number): string {
  return `ocim:load-balancer:${loadBalancerId}:last-reload`;
}

/** How long until this balancer may reload again; 0 when it may now. */
export async function reloadWaitMs(deps: IntervalDeps, loadBalancerId: number): Promise<number> {
  const last = Number(await deps.redis.get(lastReloadKey(loadBalancerId)));
  if (!last) return 0;
  return Math.max(0, last + deps.config.LB_MIN_RELOAD_INTERVAL_SECONDS * 1000 - deps.now().getTime());
}

export async function noteReload(deps: IntervalDeps, loadBalancerId: number): Promise<void> {
  if (deps.config.LB_MIN_RELOAD_INTERVAL_SECONDS === 0) return;
  // The expiry only tidies Redis up; the interval itself is measured with deps.now.
  const keepSeconds = deps.config.LB_MIN_RELOAD_INTERVAL_SECONDS + 3600;
  await deps.redis.set(lastReloadKey(loadBalancerId), String(deps.now().getTime()), "EX", keepSeconds);
}

/**
 * One delayed apply per balancer and reload slot: every apply deferred to the same moment names the
 * same job id, so they fold into one, which renders whatever version is newest when it runs.
 */
export async function deferApply(deps: IntervalDeps, loadBalancerId: number, waitMs: number): Promise<void> {
  const at = Math.ceil((deps.now().getTime() + waitMs) / 1000);
  const jobId = `${JOB.applyLoadBalancer}-${loadBalancerId}-at-${at}`;
  await deps.jobs.enqueue(JOB.applyLoadBalancer, { loadBalancerId }, { jobId, delay: waitMs, attempts: 1 });
  deps.log.info({ loadBalancerId, waitMs, jobId }, "lb.apply.deferred");
}
