// Which instances keep data on a data service: those that use it now, and the slugs of those whose
// resources are recorded there (a deleted instance's kept data too). A service in use cannot be
// deleted, nor change its kind: the instances' data would lose where it is.
import type { Prisma } from "../../db.js";
import { instancesByName } from "../instances/instance-order.js";

type Db = Pick<Prisma.TransactionClient, "instance" | "instanceDataResource">;

/** "Acme, Demo University" and the slugs of kept data; empty when nothing is there. */
export async function dataServiceUsers(db: Db, serviceId: number): Promise<string[]> {
  const [instances, owners] = await Promise.all([
    db.instance.findMany({
      where: { OR: [{ mysqlServiceId: serviceId }, { mongodbServiceId: serviceId }, { storageServiceId: serviceId }, { dataResources: { some: { serviceId } } }] },
      select: { name: true, slug: true }, orderBy: instancesByName(),
    }),
    db.instanceDataResource.findMany({ where: { serviceId }, distinct: ["owner"], select: { owner: true, instanceId: true }, orderBy: { owner: "asc" } }),
  ]);
  const named = new Set(instances.map((i) => i.slug));
  const kept = owners.filter((o) => !named.has(o.owner)).map((o) => `${o.owner} (deleted, data kept)`);
  return [...instances.map((i) => i.name), ...kept];
}

export function inUseMessage(users: string[]): string {
  const shown = users.slice(0, 10).join(", ");
  return `It holds the data of ${users.length === 1 ? "the instance" : `${users.length} instances`}: ${shown}${users.length > 10 ? ", …" : ""}. Moving data between services is not supported.`;
}
