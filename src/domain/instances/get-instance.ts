// One instance as the console and the API show it: its settings, load balancer, newest appservers
// and the page's panels (get-instance-panels.ts). The master key is never selected: nothing here is
// a secret.
// One raw statement, read as one JSON value (readJson: a prepared statement when the setting is on).
// With relationJoins Prisma would read the same in one model query, but Prisma 6 compiles every model
// query on the event loop, and one with relations costs the web process 3.9–5.2 ms of CPU per call
// against 0.4–0.6 ms for a raw statement (each statement less is about 0.45 ms): the instance page
// was at 1.1× the Django change form with three reads (bench/README.md, issue 17).
import type { Deps } from "../../deps.js";
import { jsonTimestamp, readJson } from "../../db.js";
import { notFound } from "../../errors.js";
import { Prisma, type AppServerStatus, type VmStatus } from "../../generated/prisma/client.ts";
import { PANEL_COLUMNS, panelsOf, type PanelColumns } from "./get-instance-panels.js";
import { sandboxRemoveOn } from "../sandboxes/sandbox-expiry.js";
import { allDomains } from "./domains.js";

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

type InstanceRow = Prisma.InstanceGetPayload<{ select: typeof instanceSelect }>;

const instanceColumns = Prisma.raw(Object.keys(instanceSelect).map((c) => `i."${c}"`).join(", "));

/** A pull-request sandbox's watched repository and when the cleanup removes it (docs/pr-sandboxes.md). */
export interface SandboxInfo {
  repository: string;
  keepDaysAfterClose: number;
  removeOn: Date | null;
}

/** The instance's own timestamps, which come as JSON text. */
type InstanceJson = Omit<InstanceRow, "createdAt" | "updatedAt" | "pullRequestClosedAt" | "maintenanceSince"> & {
  createdAt: string; updatedAt: string; pullRequestClosedAt: string | null; maintenanceSince: string | null;
};

type Row = InstanceJson & PanelColumns & {
  lbId: number | null; lbName: string | null; sandboxRepo: string | null; sandboxKeepDays: number | null;
  appServers: (Omit<AppServerRow, "lastActivatedAt" | "createdAt"> & { lastActivatedAt: string | null; createdAt: string })[];
  appServerTotals: { all: number; active: number };
};

/** The instance with its balancer, watched repository, newest appservers and panels in one statement. */
function readInstance(deps: Pick<Deps, "db">, id: number) {
  return readJson<Row>(deps.db, Prisma.sql`
    SELECT ${instanceColumns}, lb.id AS "lbId", lb.name AS "lbName", w.owner || '/' || w.name AS "sandboxRepo", w."keepDaysAfterClose" AS "sandboxKeepDays",
      (SELECT coalesce(json_agg(a ORDER BY a."createdAt" DESC, a.id DESC), '[]') FROM (
         SELECT a.id, a.number, a.name, a.status, a."vmStatus", a."publicIp", a."isActive", a."lastActivatedAt", a."createdAt",
                NULLIF(a."createdByLogin", '') AS "createdBy"
         FROM "AppServer" a WHERE a."instanceId" = i.id
         ORDER BY a."createdAt" DESC, a.id DESC LIMIT ${APPSERVERS_SHOWN}) a) AS "appServers",
      (SELECT json_build_object('all', count(*), 'active', count(*) FILTER (WHERE a."isActive"))
       FROM "AppServer" a WHERE a."instanceId" = i.id) AS "appServerTotals",
      ${PANEL_COLUMNS}
    FROM "Instance" i LEFT JOIN "LoadBalancer" lb ON lb.id = i."loadBalancerId"
    LEFT JOIN "WatchedRepository" w ON w.id = i."watchedRepositoryId"
    WHERE i.id = ${id}`, { prepared: true });
}

export async function getInstance(deps: Pick<Deps, "db" | "now">, input: { id: number }) {
  const [row] = await readInstance(deps, input.id);
  if (!row) throw notFound("Instance");
  const {
    lbId, lbName, sandboxRepo, sandboxKeepDays, appServers, appServerTotals,
    mysqlService, mongodbService, storageService, dataResources, live, certificate, ...json
  } = row;
  const instance: InstanceRow = {
    ...json,
    createdAt: jsonTimestamp(json.createdAt),
    updatedAt: jsonTimestamp(json.updatedAt),
    pullRequestClosedAt: jsonTimestamp(json.pullRequestClosedAt),
    maintenanceSince: jsonTimestamp(json.maintenanceSince),
  };
  const sandbox: SandboxInfo | null = sandboxRepo === null ? null : {
    repository: sandboxRepo,
    keepDaysAfterClose: sandboxKeepDays!,
    removeOn: sandboxRemoveOn({ pullRequestClosedAt: instance.pullRequestClosedAt, watchedRepository: { keepDaysAfterClose: sandboxKeepDays! } }),
  };
  return {
    ...instance,
    loadBalancer: lbId === null ? null : { id: lbId, name: lbName! },
    sandbox,
    appServers: appServers.map((a): AppServerRow => ({ ...a, lastActivatedAt: jsonTimestamp(a.lastActivatedAt), createdAt: jsonTimestamp(a.createdAt) })),
    appServerTotals,
    panels: panelsOf({ mysqlService, mongodbService, storageService, dataResources, live, certificate }, allDomains(instance), deps.now()),
  };
}

export type InstanceDetail = Awaited<ReturnType<typeof getInstance>>;
