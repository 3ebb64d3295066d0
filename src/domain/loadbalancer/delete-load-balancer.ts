// Deletes load balancers that route no instance. One that still does is refused: its instances
// would silently lose their routing (the column would be set to null).
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { instancesByName } from "../instances/instance-order.js";

export async function deleteLoadBalancer(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    const balancers = await tx.loadBalancer.findMany({
      where: { id: { in: ids } },
      include: { instances: { select: { name: true }, orderBy: instancesByName(), take: 3 }, _count: { select: { instances: true } } },
      orderBy: { name: "asc" },
    });
    if (!ids.length || balancers.length !== ids.length) throw notFound(ids.length > 1 ? "One of the load balancers" : "Load balancer");
    const busy = balancers.filter((b) => b._count.instances > 0);
    if (busy.length) {
      const list = busy.map((b) => `"${b.name}" routes ${b._count.instances} instance(s) (${b.instances.map((i) => i.name).join(", ")}${b._count.instances > 3 ? ", …" : ""})`);
      throw new AppError("rule", `Cannot delete: ${list.join("; ")}. Move those instances to another load balancer first; nothing was deleted.`);
    }
    await tx.loadBalancer.deleteMany({ where: { id: { in: ids } } });
    for (const b of balancers) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "load_balancer.deleted", subjectType: "LoadBalancer", subjectId: b.id, subjectName: b.name,
        before: { name: b.name, kind: b.kind, host: b.host, fragmentName: b.fragmentName },
      });
    }
    return { deleted: balancers.length };
  });
}
