// Where a new instance is routed and keeps its data unless its creator says otherwise: the only load
// balancer when there is exactly one (the local one of `npm start`), and each kind's default data
// service. The admin's Add form starts on these, and `ocim import` gives them to a new instance whose
// entry leaves the fields out, so an instance is never left without routing or shared data by the way
// it was made.
import type { Db } from "../../db.js";
import { SERVICE_COLUMNS } from "../data/instance-services.js";

/** Form input values (ids as strings, "" for none) of loadBalancerId and the data service columns. */
export async function newInstanceServiceDefaults(db: Db): Promise<Record<string, string>> {
  const [balancers, services] = await Promise.all([
    db.loadBalancer.findMany({ select: { id: true }, take: 2 }),
    db.dataService.findMany({ where: { isDefault: true }, select: { id: true, kind: true } }),
  ]);
  return {
    loadBalancerId: balancers.length === 1 ? String(balancers[0]!.id) : "",
    ...Object.fromEntries(SERVICE_COLUMNS.map(({ kind, column }) => [column, String(services.find((d) => d.kind === kind)?.id ?? "")])),
  };
}
