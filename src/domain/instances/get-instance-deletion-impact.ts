// What deleting instances would take with them, for the confirmation page: their appservers and
// log entries, and the appservers that are still alive (which make deletion impossible).
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.ts";
import { instancesByName } from "./instance-order.js";

export interface InstanceDeletionImpact {
  id: number;
  name: string;
  slug: string;
  appServers: number;
  logEntries: number;
  /** Its own notification channels (docs/notifications.md), deleted with it. */
  notificationChannels: number;
  /** Appservers not yet terminated: while there are any, the instance cannot be deleted. */
  liveAppServers: { name: string; status: string }[];
  /** Watched repositories ("owner/name") whose sandboxes are made from it: while there are any, it cannot be deleted. */
  templateOf: string[];
}

export async function getInstanceDeletionImpact(deps: Pick<Deps, "db">, input: { ids: number[] }): Promise<InstanceDeletionImpact[]> {
  const instances = await deps.db.instance.findMany({
    where: { id: { in: input.ids } },
    select: { id: true, name: true, slug: true, _count: { select: { appServers: true, logEntries: true, notificationChannels: true } } },
    orderBy: instancesByName(),
  });
  if (!instances.length) return [];
  const ids = instances.map((i) => i.id);
  const live = await deps.db.appServer.findMany({
    where: { instanceId: { in: ids }, status: { not: "terminated" } },
    select: { instanceId: true, name: true, status: true },
    orderBy: { number: "asc" },
  });
  // Appservers' log lines reference the appserver, not the instance; count them through it.
  const serverLogs = await deps.db.$queryRaw<{ instanceId: number; count: bigint }[]>`
    SELECT a."instanceId", count(*) AS count FROM "LogEntry" l JOIN "AppServer" a ON a.id = l."appServerId"
    WHERE a."instanceId" IN (${Prisma.join(ids)}) GROUP BY a."instanceId"`;
  const logsOf = new Map(serverLogs.map((r) => [r.instanceId, Number(r.count)]));
  const watched = await deps.db.watchedRepository.findMany({ where: { templateInstanceId: { in: ids } }, select: { owner: true, name: true, templateInstanceId: true } });
  return instances.map((i) => ({
    id: i.id,
    name: i.name,
    slug: i.slug,
    appServers: i._count.appServers,
    logEntries: i._count.logEntries + (logsOf.get(i.id) ?? 0),
    notificationChannels: i._count.notificationChannels,
    liveAppServers: live.filter((a) => a.instanceId === i.id).map((a) => ({ name: a.name, status: a.status })),
    templateOf: watched.filter((w) => w.templateInstanceId === i.id).map((w) => `${w.owner}/${w.name}`),
  }));
}
