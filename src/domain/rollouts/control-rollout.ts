// A person's pause, resume or cancel of a roll-out (the roll-out page's buttons), each one audit
// row on the roll-out. Pause: no new wave starts; launches in flight still finish and are activated.
// Resume: the next wave starts at once (the outbox row wakes the worker); failures before the resume
// stay counted, and the roll-out pauses again after a later wave that leaves the ratio above the
// threshold. Cancel: nothing more launches or is activated; pending instances are skipped, and
// launched ones keep their new appserver, not activated (the appserver page has it).
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError, notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { OUTBOX, writeOutbox } from "../appservers/outbox.js";
import type { RolloutStatus } from "../../generated/prisma/enums.ts";

export type RolloutControl = "pause" | "resume" | "cancel";

const MOVES: Record<RolloutControl, { from: RolloutStatus[]; to: RolloutStatus; verb: "paused" | "resumed" | "cancelled" }> = {
  pause: { from: ["running"], to: "paused", verb: "paused" },
  resume: { from: ["paused"], to: "running", verb: "resumed" },
  cancel: { from: ["running", "paused"], to: "cancelled", verb: "cancelled" },
};

export async function controlRollout(deps: Pick<Deps, "db" | "now">, input: { rolloutId: number; action: RolloutControl; actor: Actor }): Promise<void> {
  const move = MOVES[input.action];
  await deps.db.$transaction(async (tx) => {
    const rollout = await tx.rollout.findUnique({ where: { id: input.rolloutId }, select: { status: true } });
    if (!rollout) throw notFound("Roll-out");
    const reason = `${capitalized(move.verb)} by ${input.actor.login}.`;
    const moved = await tx.rollout.updateMany({
      where: { id: input.rolloutId, status: { in: move.from } },
      data: { status: move.to, statusReason: input.action === "resume" ? "" : reason, ...(move.to === "cancelled" ? { finishedAt: deps.now() } : {}) },
    });
    if (moved.count !== 1) {
      throw new AppError("wrong_state", `Roll-out #${input.rolloutId} is ${rollout.status}; only a ${move.from.join(" or ")} roll-out can be ${move.verb}.`);
    }
    if (input.action === "cancel") await skipTheRest(tx, input.rolloutId, input.actor);
    if (input.action === "resume") {
      const finished = await tx.rolloutItem.count({ where: { rolloutId: input.rolloutId, status: { in: ["done", "failed"] } } });
      await tx.rollout.update({ where: { id: input.rolloutId }, data: { resumedAtFinished: finished } });
      await writeOutbox(tx, [{ kind: OUTBOX.advanceRollout, payload: { rolloutId: input.rolloutId } }]);
    }
    await recordAuditEvent(tx, {
      actor: input.actor, action: `rollout.${move.verb}`, subjectType: "Rollout", subjectId: input.rolloutId, subjectName: `Roll-out #${input.rolloutId}`,
      before: { status: rollout.status }, after: { status: move.to },
    });
  });
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

async function skipTheRest(tx: Prisma.TransactionClient, rolloutId: number, actor: Actor): Promise<void> {
  await tx.rolloutItem.updateMany({ where: { rolloutId, status: "pending" }, data: { status: "skipped", error: `Not launched: the roll-out was cancelled by ${actor.login}.` } });
  // An activation under way finishes (it holds the instance's lock); a launch still provisioning is left as it is.
  await tx.rolloutItem.updateMany({
    where: { rolloutId, status: "launching" },
    data: { status: "skipped", error: `The roll-out was cancelled by ${actor.login} during this launch; its new appserver is kept, not activated.` },
  });
}
