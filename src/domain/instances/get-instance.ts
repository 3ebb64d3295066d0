// One instance as the console and the API show it: its settings, load balancer and its newest
// appservers. The master key is never selected: nothing here is a secret.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";

/** Appservers listed per instance; older ones are counted, not listed. */
export const APPSERVERS_SHOWN = 100;

const appServerSelect = {
  id: true, name: true, status: true, vmStatus: true, publicIp: true, isActive: true,
  createdAt: true, createdBy: { select: { githubLogin: true } },
} as const;

const instanceSelect = {
  id: true, name: true, slug: true, internalLmsDomain: true,
  studioDomain: true, previewDomain: true, ecommerceDomain: true, discoveryDomain: true, appsDomain: true,
  externalDomains: true, edxPlatformRepoUrl: true, edxPlatformBranch: true,
  configurationRepoUrl: true, configurationBranch: true, playbookPath: true, bootstrapCommand: true,
  openedxRelease: true, extraAnsibleVars: true, appserverCount: true, providerKind: true,
  pullRequestUrl: true, pullRequestNumber: true, pullRequestState: true, isArchived: true,
  createdAt: true, updatedAt: true,
  loadBalancer: { select: { id: true, name: true } },
} as const;

export async function getInstance(deps: Pick<Deps, "db">, input: { id: number }) {
  const [instance, appServers, counts] = await Promise.all([
    deps.db.instance.findUnique({ where: { id: input.id }, select: instanceSelect }),
    deps.db.appServer.findMany({
      where: { instanceId: input.id },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: APPSERVERS_SHOWN,
      select: appServerSelect,
    }),
    deps.db.appServer.groupBy({ by: ["isActive"], where: { instanceId: input.id }, _count: { _all: true } }),
  ]);
  if (!instance) throw notFound("Instance");
  const count = (active: boolean) => counts.find((c) => c.isActive === active)?._count._all ?? 0;
  return {
    ...instance,
    appServers,
    appServerTotals: { all: count(true) + count(false), active: count(true) },
  };
}

export type InstanceDetail = Awaited<ReturnType<typeof getInstance>>;
