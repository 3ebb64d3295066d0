// "Check now" on the instance page: asks each service the instance uses what exists of its plan
// (inspect: changes nothing) and records the answers. A service that fails marks the instance's
// rows there as error with its message, so the panel says what is wrong rather than the last good
// answer. Each service has a deadline: the request never hangs on a silent server. Audited.
import type { Deps } from "../../deps.js";
import { DataServiceError } from "../../adapters/data/port.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { KIND_LABELS, adapterFor, usedServices, withDeadline } from "./instance-services.js";
import { recordDataResources } from "./record-resources.js";
import type { DataResourceKind, DataResourceStatus } from "../../generated/prisma/client.ts";

const CHECK_MS = 20_000;

const NOUNS: Record<DataResourceKind, [string, string]> = { database: ["database", "databases"], user: ["user", "users"], bucket: ["bucket", "buckets"] };
const VERBS: Record<DataResourceStatus, [string, string]> = { exists: ["exists", "exist"], missing: ["is missing", "are missing"], error: ["could not be checked", "could not be checked"] };

/** "7 databases and 6 users exist, 1 bucket is missing"; "nothing to check" for none. */
function describeStates(states: { kind: DataResourceKind; status: DataResourceStatus }[]): string {
  const parts = (Object.keys(VERBS) as DataResourceStatus[]).flatMap((status) => {
    const these = states.filter((s) => s.status === status);
    if (!these.length) return [];
    const kinds = (Object.keys(NOUNS) as DataResourceKind[])
      .map((kind) => [kind, these.filter((s) => s.kind === kind).length] as const).filter(([, n]) => n)
      .map(([kind, n]) => `${n} ${NOUNS[kind][n === 1 ? 0 : 1]}`);
    return [`${kinds.join(" and ")} ${VERBS[status][these.length === 1 ? 0 : 1]}`];
  });
  return parts.join(", ") || "nothing to check";
}

/** One line per service: 'Storage "Campus storage": 1 bucket exists' or its failure. */
export async function checkInstanceData(deps: Pick<Deps, "db" | "secrets" | "now" | "config">, input: { instanceId: number; actor: Actor }): Promise<{ ok: boolean; lines: string[] }> {
  const { slug, services } = await usedServices(deps, input.instanceId);
  const lines: string[] = [];
  let ok = true;
  for (const { service, plan } of services) {
    const name = `${KIND_LABELS[service.kind]} "${service.name}"`;
    try {
      const adapter = adapterFor(deps, service);
      try {
        const states = await withDeadline(adapter.inspect(plan), CHECK_MS);
        await recordDataResources(deps, input.instanceId, slug, service.id, states);
        // What is there but not as it should be (a bucket whose CORS leaves out the site's origins).
        const notes = states.filter((s) => s.status === "exists" && s.detail).map((s) => `; ${s.kind} ${s.name}: ${s.detail}`);
        if (notes.length || states.some((s) => s.status !== "exists")) ok = false;
        lines.push(`${name}: ${describeStates(states)}${notes.join("")}.`);
      } finally {
        await adapter.close();
      }
    } catch (err) {
      if (!(err instanceof DataServiceError)) throw err;
      ok = false;
      await deps.db.instanceDataResource.updateMany({ where: { instanceId: input.instanceId, serviceId: service.id }, data: { status: "error", detail: err.message, checkedAt: deps.now() } });
      lines.push(`${name}: ${err.message}`);
    }
  }
  const instance = await deps.db.instance.findUniqueOrThrow({ where: { id: input.instanceId }, select: { name: true } });
  await recordAuditEvent(deps.db, {
    actor: input.actor, action: "instance.data_checked", subjectType: "Instance", subjectId: input.instanceId, subjectName: instance.name,
    after: { services: services.map((s) => s.service.name), result: ok ? "ok" : "problems" },
  });
  return { ok, lines: services.length ? lines : ["This instance uses no data service: nothing to check."] };
}
