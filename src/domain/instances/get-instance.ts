// One instance as the console and the API show it: its settings, load balancer and its newest
// appservers. The master key is never selected: nothing here is a secret.
// Three independent queries run side by side; Prisma's relation includes would run one after the
// other (bench/pages.ts measured the page at about twice the database time with them).
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import type { AppServerStatus, VmStatus } from "../../generated/prisma/client.ts";

/** Appservers listed per instance; older ones are counted, not listed. */
export const APPSERVERS_SHOWN = 100;

const instanceSelect = {
  id: true, name: true, slug: true, internalLmsDomain: true,
  studioDomain: true, previewDomain: true, ecommerceDomain: true, discoveryDomain: true, appsDomain: true,
  externalDomains: true, edxPlatformRepoUrl: true, edxPlatformBranch: true,
  configurationRepoUrl: true, configurationBranch: true, playbookPath: true, bootstrapCommand: true,
  openedxRelease: true, extraAnsibleVars: true, appserverCount: true, providerKind: true,
  pullRequestUrl: true, pullRequestNumber: true, pullRequestState: true, isArchived: true,
  createdAt: true, updatedAt: true,
} as const;

export interface AppServerRow {
  id: number;
  name: string;
  status: AppServerStatus;
  vmStatus: VmStatus;
  publicIp: string | null;
  isActive: boolean;
  lastActivatedAt: Date | null;
  createdAt: Date;
  createdBy: string | null;
}

/** The newest appservers, with the instance's totals counted in the same scan (a window). */
function newestAppServers(deps: Pick<Deps, "db">, instanceId: number) {
  return deps.db.$queryRaw<(AppServerRow & { total: number; active: number })[]>`
    SELECT a.id, a.name, a.status::text AS status, a."vmStatus"::text AS "vmStatus", a."publicIp", a."isActive",
           a."lastActivatedAt", a."createdAt", u."githubLogin" AS "createdBy",
           count(*) OVER ()::int AS total, (count(*) FILTER (WHERE a."isActive") OVER ())::int AS active
    FROM "AppServer" a LEFT JOIN "User" u ON u.id = a."createdById"
    WHERE a."instanceId" = ${instanceId}
    ORDER BY a."createdAt" DESC, a.id DESC
    LIMIT ${APPSERVERS_SHOWN}`;
}

export async function getInstance(deps: Pick<Deps, "db">, input: { id: number }) {
  const [instance, loadBalancer, rows] = await Promise.all([
    deps.db.instance.findUnique({ where: { id: input.id }, select: instanceSelect }),
    deps.db.loadBalancer.findFirst({ where: { instances: { some: { id: input.id } } }, select: { id: true, name: true } }),
    newestAppServers(deps, input.id),
  ]);
  if (!instance) throw notFound("Instance");
  return {
    ...instance,
    loadBalancer,
    appServers: rows.map(({ total: _total, active: _active, ...row }): AppServerRow => row),
    appServerTotals: { all: rows[0]?.total ?? 0, active: rows[0]?.active ?? 0 },
  };
}

export type InstanceDetail = Awaited<ReturnType<typeof getInstance>>;
