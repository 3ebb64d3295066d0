// The console's home page for a fleet (issue 16): what needs a person now, across every instance.
// Each panel is one bounded query (a LIMIT, and the count of all matches in the same scan by a
// window), all run side by side, so the page costs the same with 10 instances or 10,000 (bench/pages).
// Rows carry ids and names for links; no secret is read.
import type { Deps } from "../../deps.js";
import { Prisma, type AppServerStatus } from "../../generated/prisma/client.ts";
import { describeSteps, stepHeadline, stoppedAt } from "../provisioning/steps.js";
import { RENEW_BEFORE_DAYS } from "../certificates/renew-certificates.js";
import { getCleanupDue, type CleanupDue } from "../cleanup/get-cleanup-due.js";
import { CANCELLED_APPSERVER, NONE_ACTIVE_ON_PURPOSE, newestAppServer } from "../instances/list-instances.js";

/** Rows per panel; the rest are counted and linked. */
export const PANEL_ROWS = 10;
const DAY_MS = 86_400_000;

export interface Panel<T> {
  rows: T[];
  /** Every match, beyond the rows shown. */
  total: number;
}

interface AppServerRef {
  id: number;
  name: string;
  instanceId: number;
  instanceName: string;
  status: AppServerStatus;
  createdAt: Date;
  createdBy: string | null;
}

export interface BusyAppServer extends AppServerRef {
  /** Provisioning: "Step N of M: …"; failed: where it stopped (or null when no step recorded it). */
  step: string | null;
  /** Provisioning: time so far; failed: how long the run took. */
  elapsedMs: number;
  statusChangedAt: Date;
  failureSummary: string;
}

export interface Launch extends AppServerRef {
  /** From launch to the end of its last step, or so far while it provisions; null when not recorded. */
  durationMs: number | null;
  finished: boolean;
}

export interface IdleInstance {
  id: number;
  name: string;
  internalLmsDomain: string;
  /** The newest appserver's status; null: never launched. */
  latestStatus: AppServerStatus | null;
}

export interface UnsyncedBalancer {
  id: number;
  name: string;
  configurationVersion: number;
  deployedVersion: number;
  lastError: string;
  lastAppliedAt: Date | null;
}

export interface ExpiringCertificate {
  instanceId: number;
  instanceName: string;
  notAfter: Date;
  lastError: string;
}

export interface FleetOverview {
  now: Date;
  provisioning: Panel<BusyAppServer>;
  failing: Panel<BusyAppServer>;
  noActive: Panel<IdleInstance>;
  launches: Launch[];
  balancers: Panel<UnsyncedBalancer>;
  certificates: Panel<ExpiringCertificate> & { within: number };
  cleanup: CleanupDue;
}

type Counted<T> = T & { total: number };

const APPSERVER_COLUMNS = Prisma.sql`a.id, a.name, a."instanceId", i.name AS "instanceName", a.status::text AS status,
  a."createdAt", a."statusChangedAt", a."failureSummary", NULLIF(a."createdByLogin", '') AS "createdBy"`;

type BusyRow = Counted<AppServerRef & { statusChangedAt: Date; failureSummary: string; stepName: string | null; stepPosition: number | null; stepStartedAt: Date | null; stepEndedAt: Date | null; stepOutcome: "done" | "failed" | "cancelled" | null }>;

/**
 * The appservers matching `where`, read first on their own (MATERIALIZED) by the (status, createdAt)
 * index, for the panels whose matches are few (the provisioning and the failing ones): left to order
 * and limit the match, PostgreSQL walked the createdAt index through every appserver ever made to
 * find the 588 provisioning ones of bench/seed.ts's fleet (18 ms against 7 ms per query).
 */
const matching = (where: Prisma.Sql) => Prisma.sql`(WITH matching AS MATERIALIZED (SELECT a.id FROM "AppServer" a JOIN "Instance" i ON i.id = a."instanceId" WHERE ${where})
  SELECT a.* FROM matching m JOIN "AppServer" a ON a.id = m.id) a`;

/**
 * The first PANEL_ROWS appservers of `from` (rows named `a`) in `order`, with the step they are at
 * (their last recorded one); `total`: what each row carries as the count of all of them. The page
 * of rows is cut first and only its rows' steps are read: joined before the LIMIT, the step was
 * looked up for every match (bench/seed.ts's 588 provisioning appservers: 5.7–7.7 ms per read,
 * against 3.3–4.8 ms for the ten shown; bench/README.md, 2026-12-04 10:09).
 */
function appServersWithStep(db: Deps["db"], from: Prisma.Sql, order: Prisma.Sql, total: Prisma.Sql) {
  return db.$queryRaw<BusyRow[]>(Prisma.sql`
    SELECT a.*, s.name AS "stepName", s.position AS "stepPosition", s."startedAt" AS "stepStartedAt",
           s."endedAt" AS "stepEndedAt", s.outcome::text AS "stepOutcome"
    FROM (
      SELECT ${APPSERVER_COLUMNS}, ${total} AS total
      FROM ${from} JOIN "Instance" i ON i.id = a."instanceId"
      ORDER BY ${order} LIMIT ${PANEL_ROWS}
    ) a
    LEFT JOIN LATERAL (
      SELECT st.name, st.position, st."startedAt", st."endedAt", st.outcome FROM "AppServerStep" st
      WHERE st."appServerId" = a.id ORDER BY st.position DESC LIMIT 1
    ) s ON true
    ORDER BY ${order}`);
}

/** Each row's count of all matches: a window over the whole (materialized) match. */
const COUNT_ALL = Prisma.sql`count(*) OVER ()::int`;

function toBusy(row: BusyRow, now: Date): BusyAppServer {
  const { stepName, stepPosition, stepStartedAt, stepEndedAt, stepOutcome, total: _total, ...rest } = row;
  // The last step row is enough: the ones before it count as done (describeSteps).
  const steps = describeSteps(stepName ? [{ name: stepName, position: stepPosition!, startedAt: stepStartedAt!, endedAt: stepEndedAt, outcome: stepOutcome }] : [], now);
  const provisioning = PROVISIONING.has(row.status);
  return {
    ...rest,
    step: provisioning ? stepHeadline(steps) : stoppedAt(steps),
    elapsedMs: (provisioning ? now : row.statusChangedAt).getTime() - row.createdAt.getTime(),
  };
}

const PROVISIONING = new Set<string>(["new", "waiting", "configuring"]);

/** A launch's duration: to the end of its last step (a terminated one's status changed later). */
function toLaunch(row: BusyRow, now: Date): Launch {
  const { id, name, instanceId, instanceName, status, createdAt, createdBy } = row;
  const finished = !PROVISIONING.has(status);
  const end = !finished ? now : row.stepEndedAt ?? (status === "terminated" ? null : row.statusChangedAt);
  return { id, name, instanceId, instanceName, status, createdAt, createdBy, finished, durationMs: end ? end.getTime() - createdAt.getTime() : null };
}

const panel = <R extends { total: number }, T>(rows: R[], map: (r: R) => T): Panel<T> => ({ rows: rows.map(map), total: rows[0]?.total ?? 0 });

export async function getFleetOverview(deps: Pick<Deps, "db" | "config" | "now">): Promise<FleetOverview> {
  const now = deps.now();
  const expiringBy = new Date(now.getTime() + RENEW_BEFORE_DAYS * DAY_MS);
  const [provisioning, failing, noActive, launches, balancers, certificates, cleanup] = await Promise.all([
    // Longest running first: the one stuck the longest is the one to look at.
    appServersWithStep(deps.db, matching(Prisma.sql`a.status IN ('new', 'waiting', 'configuring')`), Prisma.sql`a."createdAt", a.id`, COUNT_ALL),
    // Failing now: the instance's newest appserver failed (a later launch supersedes it). The newest
    // from its index (newestAppServer), one lookup per failed appserver: a NOT EXISTS of a later one
    // read every appserver of each instance with a failed one (bench/seed.ts's 10,000 × 10 fleet,
    // 9,500 failed ones superseded: 107 ms against 31 ms per query, EXPLAIN ANALYZE; 14–21 ms since
    // that index).
    // A launch a person cancelled is not failing: they stopped it on purpose.
    appServersWithStep(deps.db, matching(Prisma.sql`a.status IN ('failed', 'error') AND NOT i."isArchived" AND NOT ${CANCELLED_APPSERVER}
      AND a.id = ${newestAppServer(Prisma.sql`a."instanceId"`, Prisma.sql`newest.id`)}`),
    Prisma.sql`a."statusChangedAt" DESC, a.id DESC`, COUNT_ALL),
    // Without one on purpose (maintenance, a pull request's sandbox) is not a problem: left out.
    // The active appservers' instances as one hashed set (a NOT EXISTS probed the index once per
    // instance), and the newest appserver's status read for the rows shown only: 25 ms to 11 ms.
    deps.db.$queryRaw<Counted<IdleInstance>[]>(Prisma.sql`
      SELECT p.id, p.name, p."internalLmsDomain", latest.status::text AS "latestStatus", p.total
      FROM (
        SELECT i.id, i.name, i."internalLmsDomain", i."sortName", count(*) OVER ()::int AS total
        FROM "Instance" i
        WHERE NOT i."isArchived" AND NOT ${NONE_ACTIVE_ON_PURPOSE} AND i.id NOT IN (SELECT a."instanceId" FROM "AppServer" a WHERE a."isActive")
        ORDER BY i."sortName", i.id LIMIT ${PANEL_ROWS}
      ) p
      LEFT JOIN LATERAL ${newestAppServer(Prisma.sql`p.id`, Prisma.sql`newest.status`)} latest ON true
      ORDER BY p."sortName", p.id`),
    // The newest launches by the createdAt index; not counted (every appserver ever made).
    appServersWithStep(deps.db, Prisma.sql`"AppServer" a`, Prisma.sql`a."createdAt" DESC, a.id DESC`, Prisma.sql`0`),
    deps.db.$queryRaw<Counted<UnsyncedBalancer>[]>(Prisma.sql`
      SELECT id, name, "configurationVersion", "deployedVersion", "lastError", "lastAppliedAt", count(*) OVER ()::int AS total
      FROM "LoadBalancer" WHERE "configurationVersion" > "deployedVersion" OR "lastError" <> ''
      ORDER BY name, id LIMIT ${PANEL_ROWS}`),
    deps.db.$queryRaw<Counted<ExpiringCertificate>[]>(Prisma.sql`
      SELECT c."instanceId", i.name AS "instanceName", c."notAfter", c."lastError", count(*) OVER ()::int AS total
      FROM "InstanceCertificate" c JOIN "Instance" i ON i.id = c."instanceId"
      WHERE c."notAfter" <= ${expiringBy} AND c."certificatePem" <> ''
      ORDER BY c."notAfter", c."instanceId" LIMIT ${PANEL_ROWS}`),
    getCleanupDue(deps, { limit: PANEL_ROWS }),
  ]);
  return {
    now,
    provisioning: panel(provisioning, (r) => toBusy(r, now)),
    failing: panel(failing, (r) => toBusy(r, now)),
    noActive: panel(noActive, ({ total: _t, ...r }) => r),
    launches: launches.map((r) => toLaunch(r, now)),
    balancers: panel(balancers, ({ total: _t, ...r }) => r),
    certificates: { ...panel(certificates, ({ total: _t, ...r }) => r), within: RENEW_BEFORE_DAYS },
    cleanup,
  };
}
