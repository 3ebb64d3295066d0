// What a service said about an instance's databases, users and bucket (ensure, inspect or drop),
// written down as InstanceDataResource rows: one per resource, updated in place on each call.
import type { Deps } from "../../deps.js";
import type { ResourceState } from "../../adapters/data/port.js";
import { AppError } from "../../errors.js";

/**
 * Upserts one row per state, keyed by (service, kind, name). A row that belongs to another owner
 * (data kept from a deleted instance) is refused, never taken over: a new instance must not
 * adopt someone else's data, which freeSlug also guards against by never reusing such a slug.
 */
export async function recordDataResources(
  deps: Pick<Deps, "db" | "now">, instanceId: number | null, owner: string, serviceId: number, states: ResourceState[],
): Promise<void> {
  const checkedAt = deps.now();
  await deps.db.$transaction(async (tx) => {
    const existing = await tx.instanceDataResource.findMany({
      where: { serviceId, OR: states.map((s) => ({ kind: s.kind, name: s.name })) },
      select: { kind: true, name: true, owner: true },
    });
    const foreign = existing.find((r) => r.owner !== owner);
    if (foreign) {
      throw new AppError("conflict", `The ${foreign.kind} ${foreign.name} already belongs to "${foreign.owner}" (its data is kept); it was not taken over.`);
    }
    for (const s of states) {
      const fields = {
        instanceId, owner, status: s.status, detail: s.detail ?? "",
        sizeBytes: s.sizeBytes === undefined || s.sizeBytes === null ? null : BigInt(s.sizeBytes), checkedAt,
        // Kept data stays kept while it is only looked at; an owning instance makes it its own again.
        ...(instanceId !== null ? { keptSince: null } : {}),
      };
      await tx.instanceDataResource.upsert({
        where: { serviceId_kind_name: { serviceId, kind: s.kind, name: s.name } },
        create: { serviceId, kind: s.kind, name: s.name, ...fields },
        update: fields,
      });
    }
  });
}
