// Moves a roll-out on from what is stored (docs/rollouts.md), so any worker may run it after any
// restart: the worker's advance-rollout job runs it when the roll-out starts or resumes and when a
// launch of one of its instances ends (the lifecycle's outbox row), and the periodic
// advance-rollouts job runs it every minute for each unfinished roll-out in case one was missed.
//  1. each launched item: its appserver still provisioning → wait; running → activated (the old
//     one deactivated); failed → the item failed;
//  2. running, nothing in flight and instances left: a wave has ended. The roll-out pauses when
//     failed / (done + failed) is above its threshold (checked once per wave, so the ratio it names
//     does not depend on which launch of the wave ended first); otherwise the next wave (waveSize
//     pending items, in name order) launches;
//  3. nothing pending and nothing in flight: done.
// Paused: items in flight still finish (their appserver is activated once healthy), nothing new
// launches. Cancelled: nothing more happens (cancel-rollout marks the rest skipped).
// Two advances of one roll-out never overlap: the second finds the lock taken and says "busy"
// (the job then comes back a little later: src/jobs/actions.ts).
import type { Deps } from "../../deps.js";
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
  /** busy: another advance of this roll-out holds its lock; gone: no such roll-out. */
  status: Rollout["status"] | "gone" | "busy";
  launched: number;
  settled: number;
}

export async function advanceRollout(deps: ItemDeps, input: { rolloutId: number }): Promise<AdvanceOutcome> {
  return deps.db.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${ROLLOUT_LOCK}::int, ${input.rolloutId}::int) AS locked`;
    if (!lock?.locked) return { status: "busy", launched: 0, settled: 0 };
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
  }

  // Wave after wave while each ends at once (every launch refused): nothing else would wake it.
  let launched = 0;
  for (;;) {
    const now = await items();
    const current = await deps.db.rollout.findUniqueOrThrow({ where: { id: rolloutId } });
    const pending = now.filter((i) => i.status === "pending");
    if (current.status !== "running" || now.some(isInFlight) || !pending.length || (await pausedForFailures(deps, current))) break;
    const wave = await launchWave(deps, current, pending.slice(0, current.waveSize), actor);
    if (wave === 0) break;
    launched += wave;
  }
  return { status: await finishIfDone(deps, rolloutId), launched, settled };
}

/** Launches these pending items; stops at the first one a pause or cancel took meanwhile. */
async function launchWave(deps: ItemDeps, rollout: Rollout, wave: RolloutItem[], actor: Actor): Promise<number> {
  let launched = 0;
  for (const item of wave) {
    const taken = await deps.db.rolloutItem.updateMany({ where: { id: item.id, status: "pending", rollout: { status: "running" } }, data: { status: "launching" } });
    if (taken.count !== 1) break;
    launched += 1;
    await launchItem(deps, rollout, item, actor);
  }
  return launched;
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
  return tally(groups.map((g) => ({ status: g.status, count: g._count._all })));
}

/** Items by status, from groups or from the items themselves (one item: count 1). */
export function tally(items: { status: RolloutItem["status"]; count?: number }[]): Record<RolloutItem["status"], number> {
  const counts = { pending: 0, launching: 0, activating: 0, done: 0, failed: 0, skipped: 0 };
  for (const i of items) counts[i.status] += i.count ?? 1;
  return counts;
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10}%`;
}

/** Pauses the roll-out when its failure ratio is above the threshold (and was not accepted by a resume). */
async function pausedForFailures(deps: ItemDeps, rollout: Rollout): Promise<boolean> {
  const rolloutId = rollout.id;
  const counts = await countItems(deps, rolloutId);
  const ratio = failureRatio(counts);
  if (counts.done + counts.failed <= rollout.resumedAtFinished || ratio <= rollout.failureThreshold) return false;
  return deps.db.$transaction(async (tx) => {
    const reason = `Paused: ${counts.failed} of ${counts.done + counts.failed} finished instances failed (${percent(ratio)}), above the failure threshold of ${percent(rollout.failureThreshold)}. ` +
      "Look at the failed appservers, then resume (the next wave launches) or cancel.";
    const paused = await tx.rollout.updateMany({ where: { id: rolloutId, status: "running" }, data: { status: "paused", statusReason: reason } });
    if (paused.count !== 1) return true; // paused or cancelled by a person meanwhile: no wave either
    await recordAuditEvent(tx, {
      actor: OCIM, action: "rollout.paused", subjectType: "Rollout", subjectId: rolloutId, subjectName: `Roll-out #${rolloutId}`,
      before: { status: "running" }, after: { status: "paused", because: reason },
    });
    return true;
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
