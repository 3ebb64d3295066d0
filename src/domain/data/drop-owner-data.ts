// Drops an owner's recorded databases, users and bucket through each service's adapter, and
// records per resource what happened. Every service is asked first (inspect): when one cannot be
// reached nothing is dropped anywhere, so an unreachable server never leaves an owner half-dropped.
// Once drops have started a refusal can still leave the others' drops done (a DROP DATABASE is not
// undone): the rows then say which resources are gone and which failed, and why.
import type { Deps } from "../../deps.js";
import { validationError } from "../../errors.js";
import { inspectOwnerData, type InspectedService } from "./inspect-owner-data.js";
import { adapterForService, failureText, loadOwnerData, planOfResources, withDeadline, type DataScope } from "./owner-data.js";

/** A DROP DATABASE of a large database takes a while; this only bounds a service that stopped answering. */
export const DROP_DEADLINE_MS = 10 * 60_000;

export interface DropOutcome {
  /** Every recorded resource is gone (dropped now, or already missing). */
  ok: boolean;
  /** False when the first check failed, or there was nothing recorded: nothing was dropped anywhere. */
  attempted: boolean;
  services: InspectedService[];
}

/** The typed confirmation of a destructive action: exactly `expected`, or a message next to the field. */
export function checkTypedConfirmation(typed: unknown, expected: string, what: string): void {
  if (typed !== expected) {
    throw validationError({ confirmation: `Type ${what} "${expected}" exactly to drop its data; nothing was deleted.` });
  }
}

export async function dropOwnerData(deps: Pick<Deps, "db" | "secrets" | "now" | "log">, input: { scope: DataScope; deadlineMs?: number }): Promise<DropOutcome> {
  const checked = await inspectOwnerData(deps, { scope: input.scope, deadlineMs: input.deadlineMs });
  if (checked.some((s) => s.error)) {
    deps.log.warn({ scope: input.scope, unreachable: checked.filter((s) => s.error).map((s) => s.service.id) }, "data.drop.refused_unreachable");
    return { ok: false, attempted: false, services: checked };
  }
  const services: InspectedService[] = [];
  for (const { row, service, resources } of await loadOwnerData(deps, input.scope)) {
    let error: string | null = null;
    let said: Awaited<ReturnType<ReturnType<typeof adapterForService>["drop"]>> = [];
    try {
      const adapter = adapterForService(deps, row);
      try {
        said = await withDeadline(adapter.drop(planOfResources(resources[0]!.owner, service.kind, resources)), DROP_DEADLINE_MS, `${service.name} (${service.where})`);
      } finally {
        await adapter.close();
      }
    } catch (err) {
      error = failureText(err);
    }
    const checkedAt = deps.now();
    const after = resources.map((r) => {
      const state = said.find((s) => s.kind === r.kind && s.name === r.name);
      const failed = error ?? (state?.status === "error" ? state.detail || "the service reported an error" : null);
      return failed
        ? { ...r, status: "error" as const, detail: failed, checkedAt }
        : { ...r, status: "missing" as const, detail: state?.status === "missing" ? "already gone" : "dropped", sizeBytes: null, checkedAt };
    });
    for (const r of after) {
      await deps.db.instanceDataResource.update({ where: { id: r.id }, data: { status: r.status, detail: r.detail, sizeBytes: r.sizeBytes === null ? null : BigInt(r.sizeBytes), checkedAt } });
    }
    services.push({ service, error, resources: after });
    if (error) deps.log.warn({ scope: input.scope, serviceId: service.id, error }, "data.drop.failed");
    else deps.log.info({ scope: input.scope, serviceId: service.id, resources: after.length }, "data.drop.done");
  }
  return { ok: services.every((s) => !s.error && s.resources.every((r) => r.status === "missing")), attempted: true, services };
}

/** "MySQL main: database acme_edxapp (dropped)", for audit events; names only, never a password. */
export function droppedSummary(outcome: DropOutcome): string[] {
  return outcome.services.flatMap((s) => s.resources.map((r) => `${s.service.name}: ${r.kind} ${r.name} (${r.status === "error" ? `failed: ${r.detail}` : r.detail})`));
}
