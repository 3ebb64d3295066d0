// One instance as the console and the API show it: its settings, load balancer and its newest
// appservers. The master key is never selected: nothing here is a secret.
// Two independent raw queries run side by side. With relationJoins Prisma would read the same in one
// statement, but Prisma 6 compiles every model query with relations on the event loop: 2.8 ms of CPU
// per call for the instance page's panels, against 0.45 ms for a raw read of the instance row
// (bench/README.md, issue 17), and this runs for every instance page view.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { Prisma, type AppServerStatus, type VmStatus } from "../../generated/prisma/client.ts";
import { sandboxRemoveOn } from "../sandboxes/sandbox-expiry.js";

/** Appservers listed per instance; older ones are counted, not listed. */
export const APPSERVERS_SHOWN = 100;

const instanceSelect = {
  id: true, name: true, slug: true, internalLmsDomain: true,
  studioDomain: true, previewDomain: true, ecommerceDomain: true, discoveryDomain: true, appsDomain: true,
  externalDomains: true, edxPlatformRepoUrl: true, edxPlatformBranch: true,
  configurationRepoUrl: true, configurationBranch: true, playbookPath: true, bootstrapCommand: true,
  openedxRelease: true, recipe: true, tutorPlugins: true, extraAnsibleVars: true, appserverCount: true, providerKind: true,
  pullRequestUrl: true, pullRequestNumber: true, pullRequestState: true, pullRequestClosedAt: true, isArchived: true,
  maintenanceSince: true, maintenanceBy: true, createdAt: true, updatedAt: true,
} as const;

export interface AppServerRow {
  id: number;
  /** Its number in the instance: "AppServer 4" is number 4, at /instances/<id>/appservers/4. */
  number: number;
  name: string;
  status: AppServerStatus;
  vmStatus: VmStatus;
  publicIp: string | null;
  isActive: boolean;
  lastActivatedAt: Date | null;
  createdAt: Date;
  /** Who launched it (null: not known). */
  createdBy: string | null;
}

/** The newest appservers, with the instance's totals counted in the same scan (a window). */
function newestAppServers(deps: Pick<Deps, "db">, instanceId: number) {
  return deps.db.$queryRaw<(AppServerRow & { total: number; active: number })[]>(Prisma.sql`
    SELECT a.id, a.number, a.name, a.status::text AS status, a."vmStatus"::text AS "vmStatus", a."publicIp", a."isActive",
           a."lastActivatedAt", a."createdAt", NULLIF(a."createdByLogin", '') AS "createdBy",
           count(*) OVER ()::int AS total, (count(*) FILTER (WHERE a."isActive") OVER ())::int AS active
    FROM "AppServer" a
    WHERE a."instanceId" = ${instanceId}
    ORDER BY a."createdAt" DESC, a.id DESC
    LIMIT ${APPSERVERS_SHOWN}`);
}

type InstanceRow = Prisma.InstanceGetPayload<{ select: typeof instanceSelect }>;

const instanceColumns = Prisma.raw(Object.keys(instanceSelect).map((c) => `i."${c}"`).join(", "));

/** A pull-request sandbox's watched repository and when the cleanup removes it (docs/pr-sandboxes.md). */
export interface SandboxInfo {
  repository: string;
  keepDaysAfterClose: number;
  removeOn: Date | null;
}

/** The instance, its load balancer's name and its watched repository in one raw query (see the top of the file). */
async function instanceWithBalancer(deps: Pick<Deps, "db">, id: number) {
  const rows = await deps.db.$queryRaw<(InstanceRow & { lbId: number | null; lbName: string | null; sandboxRepo: string | null; sandboxKeepDays: number | null })[]>(Prisma.sql`
    SELECT ${instanceColumns}, lb.id AS "lbId", lb.name AS "lbName", w.owner || '/' || w.name AS "sandboxRepo", w."keepDaysAfterClose" AS "sandboxKeepDays"
    FROM "Instance" i LEFT JOIN "LoadBalancer" lb ON lb.id = i."loadBalancerId"
    LEFT JOIN "WatchedRepository" w ON w.id = i."watchedRepositoryId"
    WHERE i.id = ${id}`);
  const row = rows[0];
  if (!row) return null;
  const { lbId, lbName, sandboxRepo, sandboxKeepDays, ...instance } = row;
  const sandbox: SandboxInfo | null = sandboxRepo === null ? null : {
    repository: sandboxRepo,
    keepDaysAfterClose: sandboxKeepDays!,
    removeOn: sandboxRemoveOn({ pullRequestClosedAt: instance.pullRequestClosedAt, watchedRepository: { keepDaysAfterClose: sandboxKeepDays! } }),
  };
  return { instance: instance as InstanceRow, loadBalancer: lbId === null ? null : { id: lbId, name: lbName! }, sandbox };
}

export async function getInstance(deps: Pick<Deps, "db">, input: { id: number }) {
  const [found, rows] = await Promise.all([instanceWithBalancer(deps, input.id), newestAppServers(deps, input.id)]);
  if (!found) throw notFound("Instance");
  return {
    ...found.instance,
    loadBalancer: found.loadBalancer,
    sandbox: found.sandbox,
    appServers: rows.map(({ total: _total, active: _active, ...row }): AppServerRow => row),
    appServerTotals: { all: rows[0]?.total ?? 0, active: rows[0]?.active ?? 0 },
  };
}

export type InstanceDetail = Awaited<ReturnType<typeof getInstance>>;
