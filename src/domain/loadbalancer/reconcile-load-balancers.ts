// The periodic safety net of DESIGN §8: applies every balancer that is still dirty (an apply that
// failed, or a bump whose apply never ran), and restarts the haproxy of a local balancer that is
// not running (after a reboot of the host). Errors are recorded on each balancer, not thrown.
import { AppError } from "../../errors.js";
import { haproxyTargetFor } from "../../adapters/haproxy/targets.js";
import { applyLoadBalancer, type ApplyResult } from "./apply-load-balancer.js";

export interface ReconcileOutcome {
  loadBalancerId: number;
  result?: ApplyResult;
  error?: string;
}

export async function reconcileLoadBalancers(deps: Parameters<typeof applyLoadBalancer>[0]): Promise<ReconcileOutcome[]> {
  const balancers = await deps.db.loadBalancer.findMany({
    select: { id: true, name: true, kind: true, configPath: true, mapPath: true, configurationVersion: true, deployedVersion: true },
    orderBy: { id: "asc" },
  });
  const outcomes: ReconcileOutcome[] = [];
  for (const balancer of balancers) {
    const dirty = balancer.configurationVersion > balancer.deployedVersion;
    const stopped = !dirty && balancer.kind === "local" && balancer.deployedVersion > 0 && !(await isRunning(deps, balancer));
    if (!dirty && !stopped) continue;
    try {
      outcomes.push({ loadBalancerId: balancer.id, result: await applyLoadBalancer(deps, { loadBalancerId: balancer.id, force: stopped }) });
    } catch (err) {
      // Already recorded as the balancer's lastError by the apply.
      outcomes.push({ loadBalancerId: balancer.id, error: err instanceof AppError ? err.message : "unexpected error" });
    }
  }
  if (outcomes.length) deps.log.info({ outcomes: outcomes.map((o) => ({ id: o.loadBalancerId, ok: !o.error })) }, "lb.reconcile.done");
  return outcomes;
}

async function isRunning(deps: Parameters<typeof haproxyTargetFor>[0], balancer: Parameters<typeof haproxyTargetFor>[1]): Promise<boolean> {
  try {
    return await haproxyTargetFor(deps, balancer).isRunning();
  } catch {
    return false; // a misconfigured balancer: let the apply record why
  }
}
