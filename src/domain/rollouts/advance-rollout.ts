// Moves a roll-out on from what is stored (docs/rollouts.md), so any worker may run it after any
// restart: the worker's advance-rollout job runs it when the roll-out starts or resumes and when a
// launch of one of its instances ends (the lifecycle's outbox row), and the periodic
// advance-rollouts job runs it every minute for each unfinished roll-out in case one was missed.
//  1. each launched item: its appserver still provisioning → wait; running → activated (the old
//     one deactivated); failed → the item failed, and the roll-out pauses once
//     failed / (done + failed) is above its threshold;
//  2. running and nothing in flight: the next wave (waveSize pending items, in name order) launches;
//  3. nothing pending and nothing in flight: done.
// Paused: items in flight still finish (their appserver is activated once healthy), nothing new
// launches. Cancelled: nothing more happens (cancel-rollout marks the rest skipped).
// Two advances of one roll-out never overlap: the second finds the lock taken and is retried.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { OCIM } from "../appservers/lifecycle.js";
import { launchItem, settleItem, type ItemDeps } from "./rollout-items.js";
import type { Rollout, RolloutItem } from "../../generated/prisma/client.ts";

// Any constant shared by every Ocim process of one database (the first key of the two-key lock).
const ROLLOUT_LOCK = 7_411_018;
// A wave's activations each wait for a health check (10 s at most) and its launches for the
// instance's lock: minutes at worst, for a wave of 50.
const ADVANCE_TIMEOUT_MS = 15 * 60_000;

export const IN_FLIGHT = ["launching", "activating"] as const;

export interface AdvanceOutcome {
  status: Rollout["status"] | "gone";
  launched: number;
  settled: number;
}

export async function advanceRollout(deps: ItemDeps, input: { rolloutId: number }): Promise<AdvanceOutcome> {
  return deps.db.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${ROLLOUT_LOCK}::int, ${input.rolloutId}::int) AS locked`;
    // "unavailable" is retried with backoff (src/jobs/retry.ts): by then the other advance is done.
    if (!lock?.locked) throw new AppError("unavailable", `Roll-out #${input.rolloutId} is being moved on by another job; trying again.`);
    return advanceLocked(deps, input.rolloutId);
  }, { timeout: ADVANCE_TIMEOUT_MS });
}

async function advanceLocked(deps: ItemDeps, rolloutId: number): Promise<AdvanceOutcome> {
  const rollout = await deps.db.rollout.findUnique({ where: { id: rolloutId } });
  if (!rollout) return { status: "gone", launched: 0, settled: 0 };
  if (rollout.status === "cancelled" || rollout.status === "done") return { status: rollout.status, launched: 0, settled: 0 };
  const actor: Actor = { id: rollout.createdById, login: rollout.createdByLogin };
  const items = () => deps.db.rolloutItem.findMany({ where: { rolloutId }, orderBy: { position: "asc" } });

  let settled = 0;
  for (const item of (await items()).filter((i) => isInFlight(i))) {
    // Marked launching by a wave whose launch did not get to record its appserver (a crash).
    const outcome = item.newAppServerId === null && item.status === "launching" ? await launchItem(deps, rollout, item, actor) : await settleItem(deps, item, actor);
    if (outcome === "done" || outcome === "failed") settled += 1;
    if (outcome === "failed") await pauseIfTooManyFailed(deps, rolloutId);
  }

  let launched = 0;
  const now = await items();
  const current = await deps.db.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
  if (current.status === "running" && !now.some(isInFlight)) {
    for (const item of now.filter((i) => i.status === "pending").slice(0, current.waveSize)) {
      // Taken only while the roll-out still runs: a pause or cancel since stops the wave here.
      const taken = await deps.db.rolloutItem.updateMany({ where: { id: item.id, status: "pending", rollout: { status: "running" } }, data: { status: "launching" } });
      if (taken.count !== 1) break;
      launched += 1;
      if ((await launchItem(deps, current, item, actor)) === "failed") await pauseIfTooManyFailed(deps, rolloutId);
    }
  }
  return { status: await finishIfDone(deps, rolloutId), launched, settled };
}

function isInFlight(item: RolloutItem): boolean {
  return (IN_FLIGHT as readonly string[]).includes(item.status);
}

/** The failure ratio so far: failed / (done + failed), skipped items aside. */
export function failureRatio(counts: { done: number; failed: number }): number {
  const finished = counts.done + counts.failed;
  return finished === 0 ? 0 : counts.failed / finished;
}

export async function countItems(deps: Pick<Deps, "db">, rolloutId: number): Promise<Record<RolloutItem["status"], number>> {
  const groups = await deps.db.rolloutItem.groupBy({ by: ["status"], where: { rolloutId }, _count: { _all: true } });
  const counts = { pending: 0, launching: 0, activating: 0, done: 0, failed: 0, skipped: 0 };
  for (const g of groups) counts[g.status] = g._count._all;
  return counts;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

async function pauseIfTooManyFailed(deps: ItemDeps, rolloutId: number): Promise<void> {
  const counts = await countItems(deps, rolloutId);
  await deps.db.$transaction(async (tx) => {
    const rollout = await tx.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
    const ratio = failureRatio(counts);
    if (rollout.status !== "running" || ratio <= rollout.failureThreshold) return;
    const reason = `Paused: ${counts.failed} of ${counts.done + counts.failed} finished instances failed (${percent(ratio)}), above the failure threshold of ${percent(rollout.failureThreshold)}. ` +
      "Look at the failed appservers, then resume (the next wave launches) or cancel.";
    const paused = await tx.rollout.updateMany({ where: { id: rolloutId, status: "running" }, data: { status: "paused", statusReason: reason } });
    if (paused.count !== 1) return;
    await recordAuditEvent(tx, {
      actor: OCIM, action: "rollout.paused", subjectType: "Rollout", subjectId: rolloutId, subjectName: `Roll-out #${rolloutId}`,
      before: { status: "running" }, after: { status: "paused", because: reason },
    });
  });
}

async function finishIfDone(deps: ItemDeps, rolloutId: number): Promise<Rollout["status"]> {
  const counts = await countItems(deps, rolloutId);
  const rollout = await deps.db.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
  const open = counts.pending + counts.launching + counts.activating;
  // Paused with nothing left to launch: done, as there is nothing to resume.
  if (open > 0 || (rollout.status !== "running" && rollout.status !== "paused")) return rollout.status;
  const reason = `Finished: ${counts.done} done, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ""}.`;
  const ended = await deps.db.rollout.updateMany({ where: { id: rolloutId, status: rollout.status }, data: { status: "done", statusReason: reason, finishedAt: deps.now() } });
  return ended.count === 1 ? "done" : (await deps.db.rollout.findUniqueOrThrow({ where: { id: rolloutId } })).status;
}

/** The unfinished roll-outs, for the periodic job. */
export async function unfinishedRollouts(deps: Pick<Deps, "db">): Promise<number[]> {
  const rows = await deps.db.rollout.findMany({ where: { status: { in: ["running", "paused"] } }, select: { id: true }, orderBy: { id: "asc" } });
  return rows.map((r) => r.id);
}
