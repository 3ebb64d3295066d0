// Apply = render the newest configuration of one balancer, check it with `haproxy -c`, replace the
// live files, reload (DESIGN §8). One apply at a time per balancer, under a Redis lock; the holder
// keeps going while configurationVersion moves past what it rendered, so callers that find the lock
// taken only wait until deployedVersion reaches the version they saw — whoever holds the lock does it.
// The haproxy of an `ssh` balancer (a host others share) is reloaded at most once per
// LB_MIN_RELOAD_INTERVAL_SECONDS: an apply that comes sooner schedules one delayed apply, which
// deploys whatever is newest by then (reload-interval.ts).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { askRedis } from "../../redis.js";
import { haproxyTargetFor } from "../../adapters/haproxy/targets.js";
import { HaproxyRejected } from "../../adapters/haproxy/port.js";
import { maskSecrets } from "../../adapters/haproxy/check-config.js";
import { loadBalancerLockKey, tryLock, type Lock } from "./lock.js";
import { noteReload, reloadWaitMs } from "./reload-interval.js";
import { loadRenderInput } from "./render-input.js";
import { balancerHostKeyPin } from "./host-key.js";
import { renderFragment } from "./render-config.js";
import { recordNotification } from "../notifications/record-notification.js";

type ApplyDeps = Pick<Deps, "config" | "db" | "redis" | "log" | "secrets" | "now" | "metrics">;

export interface ApplyResult {
  /**
   * applied: this call deployed; covered: another apply deployed our version; pending: still being
   * applied by another; deferred: the balancer reloaded less than LB_MIN_RELOAD_INTERVAL_SECONDS ago:
   * apply again in `retryInMs` (the job layer schedules it), which deploys the newest version then.
   */
  outcome: "applied" | "covered" | "pending" | "deferred";
  retryInMs?: number;
  configurationVersion: number;
  deployedVersion: number;
}

const POLL_MS = 50;
// A holder that keeps seeing new versions hands over after this many rounds (the waiters or the
// periodic re-apply take it from there), so one caller is never stuck behind an endless stream.
const MAX_ROUNDS = 20;

export async function applyLoadBalancer(deps: ApplyDeps, input: { loadBalancerId: number; force?: boolean }): Promise<ApplyResult> {
  const id = input.loadBalancerId;
  const wanted = (await readVersions(deps, id)).configurationVersion;
  // Long enough for `haproxy -c` and a reload, each bounded by HAPROXY_TIMEOUT_SECONDS; extended every step.
  const ttlMs = (2 * deps.config.HAPROXY_TIMEOUT_SECONDS + 10) * 1000;
  const until = Date.now() + deps.config.LB_APPLY_WAIT_SECONDS * 1000;
  const mustApply = input.force === true;
  for (;;) {
    // Redis away: refused (503) within REDIS_TIMEOUT_MS, not queued until it is back (`npm start` would hang on it).
    const lock = await askRedis(deps.redis, deps.config.REDIS_TIMEOUT_MS, () => tryLock(deps.redis, loadBalancerLockKey(id), ttlMs));
    if (lock) {
      try {
        const now = await readVersions(deps, id);
        if (!mustApply && now.deployedVersion >= wanted) return { outcome: "covered", ...now };
        const { outcome, retryInMs } = await applyWhileDirty(deps, id, lock, mustApply);
        return { outcome, ...(retryInMs ? { retryInMs } : {}), ...(await readVersions(deps, id)) };
      } finally {
        await lock.release();
      }
    }
    const now = await readVersions(deps, id);
    if (!mustApply && now.deployedVersion >= wanted) return { outcome: "covered", ...now };
    if (Date.now() >= until) {
      deps.log.warn({ loadBalancerId: id, wanted, deployed: now.deployedVersion }, "lb.apply.left_to_holder");
      return { outcome: "pending", ...now };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function readVersions(deps: Pick<Deps, "db">, id: number) {
  const row = await deps.db.loadBalancer.findUnique({ where: { id }, select: { configurationVersion: true, deployedVersion: true } });
  if (!row) throw new AppError("not_found", "Load balancer not found.");
  return row;
}

/**
 * Renders and deploys until what is live is the newest version, or until the balancer may not reload
 * again yet (then retryInMs says when it may); records the outcome on the balancer.
 */
async function applyWhileDirty(deps: ApplyDeps, id: number, lock: Lock, force: boolean): Promise<{ outcome: "applied" | "deferred"; retryInMs?: number }> {
  for (let round = 1; ; round++) {
    const { balancer, input } = await loadRenderInput(deps, id).catch((err: unknown) => failed(deps, id, null, err));
    const version = balancer.configurationVersion;
    const waitMs = balancer.kind === "ssh" && !force ? await reloadWaitMs(deps, id) : 0;
    if (waitMs > 0) return { outcome: round === 1 ? "deferred" : "applied", retryInMs: waitMs };
    const started = Date.now();
    try {
      const fragment = renderFragment(input);
      if (balancer.kind === "local") await assertOnlyLocal(deps, balancer);
      const target = haproxyTargetFor(deps, balancer, balancerHostKeyPin(deps, balancer));
      await keep(lock, balancer.name);
      const staged = await target.stage(fragment);
      try {
        await keep(lock, balancer.name);
        // Before the reload, so a failed one counts too: it forked a process on the host all the same.
        if (balancer.kind === "ssh") await noteReload(deps, id);
        await staged.commit();
      } finally {
        await staged.discard();
      }
    } catch (err) {
      deps.metrics.lbApplySeconds.observe({ balancer: balancer.name, outcome: "failed" }, (Date.now() - started) / 1000);
      deps.metrics.lbApplyErrors.inc({ balancer: balancer.name });
      return failed(deps, id, version, err);
    }
    deps.metrics.lbApplySeconds.observe({ balancer: balancer.name, outcome: "applied" }, (Date.now() - started) / 1000);
    // Compare-and-set: deployedVersion never goes backwards, even if a lock expired under us.
    await deps.db.loadBalancer.updateMany({
      where: { id, deployedVersion: { lte: version } },
      data: { deployedVersion: version, lastError: "", lastAppliedAt: deps.now() },
    });
    deps.log.info({ loadBalancerId: id, version, instances: input.instances.length, ms: Date.now() - started }, "lb.apply.done");
    const latest = await readVersions(deps, id);
    if (latest.configurationVersion <= version || round >= MAX_ROUNDS) return { outcome: "applied" };
  }
}

/** Every local balancer listens on LB_HTTP_PORT: a second one could only fight the first for it. */
async function assertOnlyLocal(deps: ApplyDeps, balancer: { id: number; name: string }): Promise<void> {
  const other = await deps.db.loadBalancer.findFirst({ where: { kind: "local", id: { not: balancer.id } }, select: { name: true } });
  if (other) {
    throw new AppError("conflict", `Only one local load balancer can run on this host (they all listen on port ${deps.config.LB_HTTP_PORT}), and ${other.name} is local too. Make ${balancer.name} an ssh balancer or delete one of them.`);
  }
}

async function keep(lock: Lock, name: string): Promise<void> {
  if (!(await lock.extend())) {
    throw new AppError("unavailable", `The lock on load balancer ${name} expired during the apply; another apply has taken over.`);
  }
}

/** Records why on the balancer (the last good config stays live) and throws an error a person can act on. */
async function failed(deps: ApplyDeps, id: number, version: number | null, err: unknown): Promise<never> {
  const rejected = err instanceof HaproxyRejected;
  const reason = rejected || err instanceof AppError ? (err as Error).message : "unexpected error (see the worker log)";
  const lastError = maskSecrets(rejected ? `haproxy -c refused version ${version}: ${reason}` : reason).slice(0, 4000);
  deps.log.error({ loadBalancerId: id, version, err: rejected ? undefined : err, reason: maskSecrets(reason) }, "lb.apply.failed");
  await recordFailure(deps, id, version, lastError).catch((e: unknown) => deps.log.warn({ err: e, loadBalancerId: id }, "lb.apply.failure_not_recorded"));
  if (rejected) {
    throw new AppError("conflict", `HAProxy refused the new configuration; the previous one stays in place. ${reason}`, { lastError });
  }
  throw err instanceof AppError ? err : new AppError("internal", "Applying the load balancer failed unexpectedly; the previous configuration stays in place.");
}

/**
 * The error on the balancer, and a "balancer.apply_failed" notification when it is news: the first
 * failure after a good apply, or a different reason. The periodic re-apply retries a dirty balancer
 * every LB_SYNC_MINUTES; the same failure again is not told again. An apply that fails after a newer
 * version went live (its lock expired during a long attempt and another apply took over) says nothing:
 * its error is about a configuration, or a host, the balancer no longer has.
 */
async function recordFailure(deps: ApplyDeps, id: number, version: number | null, lastError: string): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    const [before] = await tx.$queryRaw<{ name: string; lastError: string; deployedVersion: number }[]>`SELECT name, "lastError", "deployedVersion" FROM "LoadBalancer" WHERE id = ${id} FOR UPDATE`;
    if (!before) return;
    if (version !== null && before.deployedVersion > version) {
      deps.log.info({ loadBalancerId: id, version, deployed: before.deployedVersion }, "lb.apply.failure_superseded");
      return;
    }
    await tx.loadBalancer.update({ where: { id }, data: { lastError } });
    if (before.lastError === lastError) return;
    await recordNotification(tx, {
      event: "balancer.apply_failed", instance: null,
      subject: `Load balancer apply failed: ${before.name}`,
      message: `Applying load balancer ${before.name} failed; its previous configuration stays in place. ${lastError}`,
      path: `/admin/load-balancers/${id}`,
    });
  });
}
