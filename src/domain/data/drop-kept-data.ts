// Drops what a deleted instance left behind under its slug ("Kept data" in the admin), behind the
// same typed confirmation as deleting an instance with its data; the rows go once all of it is gone.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { checkTypedConfirmation, droppedSummary, dropOwnerData, type DropOutcome } from "./drop-owner-data.js";

export async function dropKeptData(
  deps: Pick<Deps, "db" | "secrets" | "now" | "log">, input: { actor: Actor; owner: string; confirmation: unknown; deadlineMs?: number },
): Promise<DropOutcome> {
  const scope = { owner: input.owner };
  if (!(await deps.db.instanceDataResource.count({ where: { owner: input.owner, instanceId: null } }))) {
    throw new AppError("not_found", `There is no kept data of "${input.owner.slice(0, 60)}"; it may have been dropped already.`);
  }
  checkTypedConfirmation(input.confirmation, input.owner, "the owner");
  const outcome = await dropOwnerData(deps, { scope, deadlineMs: input.deadlineMs });
  if (!outcome.attempted) return outcome;
  await deps.db.$transaction(async (tx) => {
    if (outcome.ok) await tx.instanceDataResource.deleteMany({ where: { owner: input.owner, instanceId: null } });
    await recordAuditEvent(tx, {
      actor: input.actor, action: outcome.ok ? "kept_data.dropped" : "kept_data.drop_failed", subjectType: "KeptData",
      subjectId: input.owner, subjectName: input.owner, after: { resources: droppedSummary(outcome) },
    });
  });
  return outcome;
}
