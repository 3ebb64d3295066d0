// What each service says now about an owner's recorded databases, users and bucket, with sizes:
// for the deletion plan and the kept-data page. A service that cannot be reached in time is
// reported with what failed, next to what was recorded, and the others are still asked.
import type { Deps } from "../../deps.js";
import { adapterForService, failureText, loadOwnerData, planOfResources, withDeadline, type DataScope, type ServiceData } from "./owner-data.js";

/** Long enough for a server across a network, short enough for a page to wait for. */
export const INSPECT_DEADLINE_MS = 5_000;

export interface InspectedService extends ServiceData {
  /** Why the service could not say (its resources then show what was last recorded). */
  error: string | null;
}

export async function inspectOwnerData(
  deps: Pick<Deps, "db" | "secrets" | "now">, input: { scope: DataScope; deadlineMs?: number },
): Promise<InspectedService[]> {
  const services = await loadOwnerData(deps, input.scope);
  return Promise.all(services.map(async ({ row, service, resources }): Promise<InspectedService> => {
    try {
      const adapter = adapterForService(deps, row);
      try {
        const plan = planOfResources(resources[0]!.owner, service.kind, resources);
        const states = await withDeadline(adapter.inspect(plan), input.deadlineMs ?? INSPECT_DEADLINE_MS, `${service.name} (${service.where})`);
        const checkedAt = deps.now();
        return {
          service,
          error: null,
          resources: resources.map((r) => {
            const said = states.find((s) => s.kind === r.kind && s.name === r.name);
            return said ? { ...r, status: said.status, detail: said.detail ?? "", sizeBytes: said.sizeBytes ?? null, checkedAt } : r;
          }),
        };
      } finally {
        await adapter.close();
      }
    } catch (err) {
      return { service, resources, error: failureText(err) };
    }
  }));
}

/**
 * For the deletion page of instances: each one's data by service. `live`: ask the services (one
 * instance); else what was last recorded (a selection of many, which would mean many connections).
 */
export async function instanceDataForDeletion(
  deps: Pick<Deps, "db" | "secrets" | "now">, input: { ids: number[]; live: boolean },
): Promise<Map<number, InspectedService[]>> {
  const result = new Map<number, InspectedService[]>();
  for (const id of input.ids) {
    const scope = { instanceId: id };
    const services = input.live
      ? await inspectOwnerData(deps, { scope })
      : (await loadOwnerData(deps, scope)).map(({ service, resources }) => ({ service, resources, error: null }));
    result.set(id, services);
  }
  return result;
}
