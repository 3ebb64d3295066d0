// One instance of a roll-out, moved on by advance-rollout.ts through the existing commands only:
// updateInstance (the target release, as the admin's form would), launchAppServer (the same launch,
// its rules, its audit row) and activateAppServer with deactivateOthers (the health gate, then the
// new appserver active and the old one deactivated in one transaction, one balancer apply).
// Each item's status moves by compare-and-set, so a cancel that lands meanwhile is never overwritten;
// each change also re-announces its appserver's status (an outbox status-event), which makes open
// roll-out pages render themselves again (public/js/live-regions.js).
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { activateAppServer } from "../appservers/activation.js";
import { launchAppServer } from "../appservers/launch-appserver.js";
import { PROVISIONING_STATUSES } from "../appservers/lifecycle.js";
import { OUTBOX, writeOutbox } from "../appservers/outbox.js";
import { updateInstance } from "../instances/update-instance.js";
import type { Rollout, RolloutItem, RolloutItemStatus } from "../../generated/prisma/client.ts";

export type ItemDeps = Pick<Deps, "db" | "secrets" | "now" | "config" | "hostOs">;

/** Moves an item from `from` to `data.status`; false when something else moved it first. */
export async function moveItem(deps: Pick<Deps, "db">, item: Pick<RolloutItem, "id">, from: RolloutItemStatus[], data: Prisma.RolloutItemUncheckedUpdateManyInput): Promise<boolean> {
  return deps.db.$transaction(async (tx) => {
    const moved = await tx.rolloutItem.updateMany({ where: { id: item.id, status: { in: from } }, data });
    if (moved.count !== 1) return false;
    const { newAppServerId } = await tx.rolloutItem.findUniqueOrThrow({ where: { id: item.id }, select: { newAppServerId: true } });
    if (newAppServerId) await writeOutbox(tx, [{ kind: OUTBOX.statusEvent, payload: { appServerId: newAppServerId } }]);
    return true;
  });
}

/** What went wrong, in the words a person can act on: an AppError's message, with its fields. */
function reasonOf(err: AppError): string {
  const fields = Object.entries(err.details.fields ?? {}).map(([field, problem]) => `${field}: ${problem}`);
  return fields.length ? fields.join(" ") : err.message;
}

/**
 * Launches the item's instance (an item already marked launching: the wave took it). Sets the
 * target release first when the roll-out has one. A refusal (an archived instance, the
 * provisioning cap, a release the instance's recipe does not know) fails the item with the reason.
 * The launch key makes a launch repeated after a crash find the appserver the first one made.
 */
export async function launchItem(deps: ItemDeps, rollout: Rollout, item: RolloutItem, actor: Actor): Promise<"launched" | "failed"> {
  let refused = "Not launched";
  try {
    if (rollout.targetRelease !== null) {
      refused = `Release ${rollout.targetRelease} not set, not launched`;
      await updateInstance(deps, {
        actor, id: item.instanceId,
        values: { openedxRelease: rollout.targetRelease, edxPlatformBranch: rollout.targetEdxPlatformBranch, configurationBranch: rollout.targetConfigurationBranch },
      });
      refused = "Not launched";
    }
    const old = await deps.db.appServer.findFirst({
      where: { instanceId: item.instanceId, isActive: true }, orderBy: [{ lastActivatedAt: "desc" }, { id: "desc" }], select: { id: true },
    });
    const launched = await launchAppServer(deps, { instanceId: item.instanceId, actor, launchKey: `rollout:${rollout.id}:${item.instanceId}` });
    // Recorded on an item a cancel skipped meanwhile too: its new appserver is kept, and the page links it.
    await moveItem(deps, item, ["launching", "skipped"], { newAppServerId: launched.id, oldAppServerId: old?.id ?? null });
    return "launched";
  } catch (err) {
    if (!(err instanceof AppError)) throw err; // the database or a bug: the next advance tries again
    await moveItem(deps, item, ["launching"], { status: "failed", error: `${refused}: ${reasonOf(err)}` });
    return "failed";
  }
}

/**
 * Looks at a launched item's appserver: still provisioning → nothing; running → activated, the
 * others of its instance deactivated (done); failed, errored or gone → failed with its summary.
 */
export async function settleItem(deps: ItemDeps, item: RolloutItem, actor: Actor): Promise<"waiting" | "done" | "failed"> {
  const as = item.newAppServerId ? await deps.db.appServer.findUnique({ where: { id: item.newAppServerId }, select: { id: true, name: true, status: true, failureSummary: true } }) : null;
  if (!as) {
    await moveItem(deps, item, ["launching", "activating"], { status: "failed", error: "Its new appserver was deleted before it was activated." });
    return "failed";
  }
  if (PROVISIONING_STATUSES.includes(as.status)) return "waiting";
  if (as.status !== "running") {
    const summary = as.failureSummary ? `: ${as.failureSummary}` : ".";
    await moveItem(deps, item, ["launching", "activating"], { status: "failed", error: `${as.name} ended ${as.status}${summary}` });
    return "failed";
  }
  if (!(await moveItem(deps, item, ["launching", "activating"], { status: "activating" }))) return "waiting";
  try {
    await activateAppServer(deps, { appServerId: as.id, actor, deactivateOthers: true });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    await moveItem(deps, item, ["activating"], { status: "failed", error: `${as.name} is running but was not activated: ${err.message}` });
    return "failed";
  }
  await moveItem(deps, item, ["activating"], { status: "done", error: "" });
  return "done";
}
