// The home page's "cleanup due today": the appservers the cleanup plan (DESIGN §10) would remove
// by the end of this UTC day, from the same pure planCleanup() the plan page and the job use. The
// plan page reads every appserver of the fleet; this reads only the instances where one could be
// due (an inactive, unpinned appserver old enough for its rule), at most INSTANCES_READ of them, so
// the home page stays a bounded read with 10,000 instances.
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.ts";
import { planCleanup, type PlanRow } from "./plan-cleanup.js";
import { SANDBOX_CLOSURE_SELECT, sandboxRemoveOn } from "../sandboxes/sandbox-expiry.js";

const DAY = 86_400_000;
const INSTANCES_READ = 200;

export interface DueAppServer {
  id: number;
  name: string;
  instanceId: number;
  instanceName: string;
  status: string;
  reason: string;
}

export interface CleanupDue {
  /** The end of the day the plan was made for (midnight UTC). */
  by: Date;
  rows: DueAppServer[];
  total: number;
  /** More instances could have some due than were read: `total` is a lower bound. */
  atLeast: boolean;
}

export async function getCleanupDue(deps: Pick<Deps, "db" | "config" | "now">, input: { limit: number }): Promise<CleanupDue> {
  const now = deps.now();
  const by = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  const settings = { failedDays: deps.config.CLEANUP_FAILED_DAYS, inactiveDays: deps.config.CLEANUP_INACTIVE_DAYS };
  // A necessary condition for being due by `by` (a fallback's date is later than its creation
  // plus the retention, never earlier), so no instance with one due is left out. One branch per
  // rule, each a range of the (status, createdAt) index: written as one OR, it read every appserver
  // ever made (bench/seed.ts's fleet: 38-58 ms against 1.6 ms when none is due, 53 against 25 ms
  // when 201 instances have some).
  const candidates = await deps.db.$queryRaw<{ instanceId: number }[]>(Prisma.sql`
    SELECT c."instanceId" FROM (
      SELECT a."instanceId", a."isActive", a."isPinned" FROM "AppServer" a
      WHERE a.status IN ('failed', 'error') AND a."createdAt" <= ${new Date(by.getTime() - settings.failedDays * DAY)}
      UNION ALL
      SELECT a."instanceId", a."isActive", a."isPinned" FROM "AppServer" a
      WHERE a.status = 'running' AND a."createdAt" <= ${new Date(by.getTime() - settings.inactiveDays * DAY)}
      UNION ALL
      SELECT a."instanceId", a."isActive", a."isPinned" FROM "AppServer" a
      JOIN "Instance" i ON i.id = a."instanceId" JOIN "WatchedRepository" w ON w.id = i."watchedRepositoryId"
      WHERE a.status IN ('running', 'failed', 'error') AND i."pullRequestClosedAt" + w."keepDaysAfterClose" * interval '1 day' <= ${by}
    ) c
    WHERE NOT c."isPinned" AND (NOT c."isActive" OR c."instanceId" IN (SELECT id FROM "Instance" WHERE "pullRequestClosedAt" IS NOT NULL))
    GROUP BY c."instanceId" ORDER BY c."instanceId" LIMIT ${INSTANCES_READ + 1}`);
  const ids = candidates.slice(0, INSTANCES_READ).map((c) => c.instanceId);
  if (!ids.length) return { by, rows: [], total: 0, atLeast: false };
  // Terminated rows count too: their activations say when the instance last switched.
  const rows = await deps.db.appServer.findMany({
    where: { instanceId: { in: ids } },
    select: {
      id: true, name: true, instanceId: true, status: true, isActive: true, isPinned: true, createdAt: true, lastActivatedAt: true,
      instance: { select: { name: true, ...SANDBOX_CLOSURE_SELECT } },
    },
  });
  const fates = planCleanup(rows.map((r) => ({ ...r, sandboxRemoveOn: sandboxRemoveOn(r.instance) })) satisfies PlanRow[], settings, by);
  const due = rows
    .flatMap((r) => {
      const fate = fates.get(r.id);
      return fate && !fate.keep ? [{ id: r.id, name: r.name, instanceId: r.instanceId, instanceName: r.instance.name, status: r.status, reason: fate.reason }] : [];
    })
    .sort((a, b) => a.instanceName.localeCompare(b.instanceName, "en", { sensitivity: "base" }) || a.id - b.id);
  return { by, rows: due.slice(0, input.limit), total: due.length, atLeast: candidates.length > INSTANCES_READ };
}
