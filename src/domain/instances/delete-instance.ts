// Deletes instances with their (terminated) appservers and all their log entries, in one
// transaction: all of them or none. An instance with an appserver that is not terminated is
// refused, since its VM would be left running with nothing in Ocim pointing at it.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { Prisma } from "../../generated/prisma/client.ts";
import { bumpLoadBalancers } from "../loadbalancer/bump-configuration.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { instanceAuditView } from "./audit-view.js";
import { lockInstanceWrites } from "./instance-integrity.js";

export interface DeleteInstanceInput {
  actor: Actor;
  /** One or more instances, deleted together. */
  ids: number[];
}

export async function deleteInstance(deps: Pick<Deps, "db">, input: DeleteInstanceInput): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    await lockInstanceWrites(tx);
    // Row locks hold off a launch (it updates the instance row) until this transaction ends.
    if (ids.length) await tx.$executeRaw`SELECT id FROM "Instance" WHERE id IN (${Prisma.join(ids)}) FOR UPDATE`;
    const instances = await tx.instance.findMany({ where: { id: { in: ids } }, orderBy: { name: "asc" } });
    if (!ids.length || instances.length !== ids.length) throw notFound(ids.length > 1 ? "One of the instances" : "Instance");
    const live = await tx.appServer.findMany({
      where: { instanceId: { in: ids }, status: { not: "terminated" } },
      select: { name: true, status: true, instance: { select: { name: true } } },
      orderBy: [{ instanceId: "asc" }, { number: "asc" }],
    });
    if (live.length) {
      const list = live.map((a) => `${a.name} of "${a.instance.name}" (${a.status})`).join(", ");
      throw new AppError("rule", `Cannot delete: ${list} ${live.length === 1 ? "is" : "are"} not terminated. Terminate ${live.length === 1 ? "it" : "them"} first; nothing was deleted.`);
    }
    // Appservers' log entries go with them (ON DELETE CASCADE), the instance's own with it.
    await tx.appServer.deleteMany({ where: { instanceId: { in: ids } } });
    await tx.instance.deleteMany({ where: { id: { in: ids } } });
    await bumpLoadBalancers(tx, instances.map((i) => i.loadBalancerId));
    for (const instance of instances) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "instance.deleted", subjectType: "Instance", subjectId: instance.id,
        subjectName: instance.name, before: instanceAuditView(instance),
      });
    }
    return { deleted: instances.length };
  });
}
