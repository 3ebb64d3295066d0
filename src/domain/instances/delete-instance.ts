// Deletes instances with their (terminated) appservers and all their log entries, in one
// transaction: all of them or none. An instance with an appserver that is not terminated is
// refused, since its VM would be left running with nothing in Ocim pointing at it.
// The data Ocim made for an instance on shared services is kept (its rows stay, owned by the
// slug, since when is noted), unless the caller has just dropped it (delete-instance-with-data.ts).
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.ts";
import { instancesByName } from "./instance-order.js";
import { bumpAndApply } from "../loadbalancer/bump-configuration.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { instanceAuditView } from "./audit-view.js";
import { lockInstanceWrites } from "./instance-integrity.js";

export interface DeleteInstanceInput {
  actor: Actor;
  /** One or more instances, deleted together. */
  ids: number[];
  /** The instances' data was dropped: their resource rows go too (else they stay, as kept data). */
  dataDropped?: boolean;
}

/** Where an instance's kept data is: per service, the names of its databases, users and bucket. */
export interface KeptData {
  instance: string;
  owner: string;
  services: { name: string; resources: string[] }[];
}

export interface DeleteInstanceResult {
  deleted: number;
  kept: KeptData[];
}

/** Why instances cannot be deleted while these appservers are alive; null when none is. */
export function liveAppServersProblem(live: { name: string; status: string; instance: string }[]): AppError | null {
  if (!live.length) return null;
  const list = live.map((a) => `${a.name} of "${a.instance}" (${a.status})`).join(", ");
  return new AppError("rule", `Cannot delete: ${list} ${live.length === 1 ? "is" : "are"} not terminated. Terminate ${live.length === 1 ? "it" : "them"} first; nothing was deleted.`);
}

/** "MySQL main: acme_edxapp, acme_edxapp_csmh; Mongo main: acme_forum". */
export function keptDataText(kept: KeptData): string {
  return kept.services.map((s) => `${s.name}: ${s.resources.join(", ")}`).join("; ");
}

export async function deleteInstance(deps: Pick<Deps, "db" | "now">, input: DeleteInstanceInput): Promise<DeleteInstanceResult> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    await lockInstanceWrites(tx);
    // Row locks hold off a launch (it updates the instance row) until this transaction ends.
    if (ids.length) await tx.$executeRaw`SELECT id FROM "Instance" WHERE id IN (${Prisma.join(ids)}) FOR UPDATE`;
    const instances = await tx.instance.findMany({ where: { id: { in: ids } }, orderBy: instancesByName() });
    if (!ids.length || instances.length !== ids.length) throw notFound(ids.length > 1 ? "One of the instances" : "Instance");
    const live = await tx.appServer.findMany({
      where: { instanceId: { in: ids }, status: { not: "terminated" } },
      select: { name: true, status: true, instance: { select: { name: true } } },
      orderBy: [{ instanceId: "asc" }, { number: "asc" }],
    });
    const problem = liveAppServersProblem(live.map((a) => ({ name: a.name, status: a.status, instance: a.instance.name })));
    if (problem) throw problem;
    const templateOf = await tx.watchedRepository.findMany({ where: { templateInstanceId: { in: ids } }, select: { owner: true, name: true, templateInstance: { select: { name: true } } } });
    if (templateOf.length) {
      const which = templateOf.map((w) => `${w.templateInstance.name} (of ${w.owner}/${w.name})`).join(", ");
      throw new AppError("rule", `Sandbox templates cannot be deleted: ${which}. Choose another template for the watched repository, or stop watching it, first; nothing was deleted.`);
    }
    const resources = await tx.instanceDataResource.findMany({
      where: { instanceId: { in: ids } },
      select: { instanceId: true, kind: true, name: true, service: { select: { name: true } } },
      orderBy: [{ service: { name: "asc" } }, { kind: "asc" }, { name: "asc" }],
    });
    if (input.dataDropped) await tx.instanceDataResource.deleteMany({ where: { instanceId: { in: ids } } });
    // The instance's deletion sets instanceId to null (ON DELETE SET NULL); since when it is kept is ours to say.
    else await tx.instanceDataResource.updateMany({ where: { instanceId: { in: ids } }, data: { keptSince: deps.now() } });
    // Appservers' log entries go with them (ON DELETE CASCADE), the instance's own with it.
    await tx.appServer.deleteMany({ where: { instanceId: { in: ids } } });
    await tx.instance.deleteMany({ where: { id: { in: ids } } });
    await bumpAndApply(tx, instances.map((i) => i.loadBalancerId));
    const kept: KeptData[] = [];
    for (const instance of instances) {
      const own = resources.filter((r) => r.instanceId === instance.id);
      const services = [...new Set(own.map((r) => r.service.name))].map((name) => ({
        name, resources: own.filter((r) => r.service.name === name).map((r) => r.name),
      }));
      const data = !own.length ? null : input.dataDropped ? "dropped" : `kept under "${instance.slug}": ${keptDataText({ instance: instance.name, owner: instance.slug, services })}`;
      if (own.length && !input.dataDropped) kept.push({ instance: instance.name, owner: instance.slug, services });
      await recordAuditEvent(tx, {
        actor: input.actor, action: "instance.deleted", subjectType: "Instance", subjectId: instance.id,
        subjectName: instance.name, before: instanceAuditView(instance), after: data ? { data } : null,
      });
    }
    return { deleted: instances.length, kept };
  });
}
