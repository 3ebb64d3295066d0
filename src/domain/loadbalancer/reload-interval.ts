// How often the haproxy of an `ssh` balancer may reload. Every reload of a shared host forks a new
// worker for every site on it while the old ones finish their connections (up to the operator's
// hard-stop-after), and resets what haproxy learnt at run time unless the operator keeps server
// state (docs/load-balancer.md); a burst of changes (ten appservers activated in a row) should cost
// one reload, not ten. The time of the last reload lives in Redis beside the balancer's lock, read
// with the injected clock. A deferred apply is retried by a delayed job (src/jobs/actions.ts).
import type { Deps } from "../../deps.js";

type IntervalDeps = Pick<Deps, "config" | "redis" | "now">;

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
