// "Delete the data too": drops every database, user and bucket recorded for the instance, and only
// when all of them are gone deletes the instance (and the rows). A service that refuses or cannot
// be reached leaves the instance in place, with each resource's outcome recorded for the page.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { checkTypedConfirmation, droppedSummary, dropOwnerData, type DropOutcome } from "../data/drop-owner-data.js";
import { deleteInstance, liveAppServersProblem } from "./delete-instance.js";

export interface DeleteInstanceWithDataInput {
  actor: Actor;
  id: number;
  /** What the admin typed: must be the instance's slug exactly. */
  confirmation: unknown;
  deadlineMs?: number;
}

export interface DeleteInstanceWithDataResult {
  /** False when a service refused: the instance and its rows are still there. */
  deleted: boolean;
  outcome: DropOutcome;
  /** The instance's name, for messages. */
  title: string;
}

export async function deleteInstanceWithData(deps: Pick<Deps, "db" | "secrets" | "now" | "log">, input: DeleteInstanceWithDataInput): Promise<DeleteInstanceWithDataResult> {
  const instance = await deps.db.instance.findUnique({
    where: { id: input.id },
    select: { name: true, slug: true, appServers: { where: { status: { not: "terminated" } }, select: { name: true, status: true }, orderBy: { number: "asc" } } },
  });
  if (!instance) throw notFound("Instance");
  checkTypedConfirmation(input.confirmation, instance.slug, "the instance's slug");
  // Checked before anything is dropped: data gone under an instance that then cannot be deleted helps nobody.
  const problem = liveAppServersProblem(instance.appServers.map((a) => ({ ...a, instance: instance.name })));
  if (problem) throw problem;
  const outcome = await dropOwnerData(deps, { scope: { instanceId: input.id }, deadlineMs: input.deadlineMs });
  if (outcome.attempted && outcome.services.length) {
    await recordAuditEvent(deps.db, {
      actor: input.actor, action: outcome.ok ? "instance.data.dropped" : "instance.data.drop_failed", subjectType: "Instance",
      subjectId: input.id, subjectName: instance.name, after: { owner: instance.slug, resources: droppedSummary(outcome) },
    });
  }
  if (!outcome.ok) return { deleted: false, outcome, title: instance.name };
  await deleteInstance(deps, { actor: input.actor, ids: [input.id], dataDropped: true });
  return { deleted: true, outcome, title: instance.name };
}
