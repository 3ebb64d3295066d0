// The instance list of the console and the API: search by name or any domain, archived filter,
// state filter (failing, provisioning, no active appserver), one page by name whatever its case and
// accents (the generated sortName column, whose index serves it), and each row's badges (active appserver
// count, newest appserver's status).
// Raw SQL because the badges come from LATERAL joins over the page only: one query for the page
// however many instances there are (no N+1), read as JSON rows (readPage). The search goes in as a
// parameter through Prisma.sql tagged templates, never spliced into the text; only what the program
// chose is written in (the archived filter's true or false, the page's LIMIT and OFFSET), so that the
// console's first page can be prepared. Costs measured in bench/pages.ts.
import { containsPattern, readPage, sqlInteger, type Db } from "../../db.js";
import type { Deps } from "../../deps.js";
import { Prisma, type AppServerStatus } from "../../generated/prisma/client.ts";

export type ArchivedFilter = "exclude" | "include" | "only";

/**
 * failing: the newest appserver failed or never came up (the badge says so), not cancelled by a
 * person; provisioning: an appserver is being provisioned; no-active: no appserver serves the site
 * (the balancer shows the maintenance page), leaving out the instances that may have none on
 * purpose. The same sets as the home page's panels (get-fleet-overview.ts), by the same conditions.
 */
export const INSTANCE_STATES = ["failing", "provisioning", "no-active"] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** Appserver `a` was cancelled by a person (the step it stopped at says so): a deliberate stop, not a failure. */
export const CANCELLED_APPSERVER = Prisma.sql`EXISTS (SELECT 1 FROM "AppServerStep" st WHERE st."appServerId" = a.id AND st.outcome = 'cancelled')`;

/** Instance `i` may have no active appserver on purpose: it is in maintenance, or a pull request's sandbox. */
export const NONE_ACTIVE_ON_PURPOSE = Prisma.sql`(i."maintenanceSince" IS NOT NULL OR i."pullRequestUrl" IS NOT NULL)`;

/**
 * The newest appserver of the instance whose id is `instanceId` (an SQL expression), its `columns`
 * (of `newest`), as a parenthesized subquery: the one order every "newest" read shares, which the
 * AppServer (instanceId, createdAt DESC, id DESC, status) index serves from the index alone.
 */
export function newestAppServer(instanceId: Prisma.Sql, columns: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(SELECT ${columns} FROM "AppServer" newest WHERE newest."instanceId" = ${instanceId} ORDER BY newest."createdAt" DESC, newest.id DESC LIMIT 1)`;
}

const STATE_CONDITIONS: Record<InstanceState, Prisma.Sql> = {
  failing: Prisma.sql`EXISTS (SELECT 1 FROM ${newestAppServer(Prisma.sql`i.id`, Prisma.sql`newest.id, newest.status`)} a
    WHERE a.status IN ('failed', 'error') AND NOT ${CANCELLED_APPSERVER})`,
  provisioning: Prisma.sql`EXISTS (SELECT 1 FROM "AppServer" a WHERE a."instanceId" = i.id AND a.status IN ('new', 'waiting', 'configuring'))`,
  "no-active": Prisma.sql`NOT EXISTS (SELECT 1 FROM "AppServer" a WHERE a."instanceId" = i.id AND a."isActive") AND NOT ${NONE_ACTIVE_ON_PURPOSE}`,
};

export interface ListInstancesInput {
  /** Matched case-insensitively against the name and every domain (substring). */
  q?: string;
  archived?: ArchivedFilter;
  state?: InstanceState;
  limit: number;
  offset?: number;
  /**
   * The first page may be kept as a prepared statement (readPage): for a caller with one page size
   * (the console's), not for one where every LIMIT asked for would be a statement of its own (the API).
   */
  prepare?: boolean;
}

export interface InstanceListRow {
  id: number;
  name: string;
  internalLmsDomain: string;
  isArchived: boolean;
  activeAppServers: number;
  latestStatus: AppServerStatus | null;
}

export interface InstanceList {
  rows: InstanceListRow[];
  /** How many instances match the filters, beyond this page too. */
  total: number;
}

/** A word (letters or digits) of three characters: pg_trgm has trigrams of it to look up. */
const TRIGRAM_WORD = /[\p{L}\p{N}]{3}/u;

/**
 * Instances whose name or any domain contains `q`, accents and case aside: searchText is the name and
 * domains folded (no accents, lowercased: the sort key's function), a column PostgreSQL generates,
 * and its trigram index serves a LIKE with a word of three characters or more (bench/README.md: the
 * search pages). The pattern is folded by the same function. The console's and the admin's search.
 *
 * With such a word the pattern goes in as a sub-select, which the planner does not look into: every
 * such search then has the same plan (the trigram index), and a prepared page keeps it
 * (searchPlanValues, readPage) where PostgreSQL had planned the search on every view: a run of the
 * admin search's statement took 0.85 ms instead of 1.12 (bench/README.md, 2026-12-05), and one
 * with a word every instance has 12.8 instead of 30.2 (the planned seq scan was slower). A shorter
 * pattern gives the index nothing to look up and is planned with its value: for `%a%` PostgreSQL
 * reads the table (20 ms), where the index's plan reads all of the index and then the table (45 ms).
 */
export function searchCondition(q: string): Prisma.Sql {
  const pattern = containsPattern(q);
  return searchPlanValues(q) ? Prisma.sql`i."searchText" LIKE (SELECT "Instance_sortName"(${pattern}))` : Prisma.sql`i."searchText" LIKE "Instance_sortName"(${pattern})`;
}

/** How many of searchCondition(q)'s values leave its plan alone (readPage): its pattern's, when hidden from the planner; none without a search. */
export function searchPlanValues(q: string): number {
  return TRIGRAM_WORD.test(q) ? 1 : 0;
}

/** How many instances match `where` (a WHERE clause on "Instance" i, or none), as an SQL expression. */
export function countSql(where: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(SELECT count(*)::int FROM "Instance" i ${where})`;
}

/** How many instances match `where`, counted. */
export async function countMatching(db: Db, where: Prisma.Sql): Promise<number> {
  const rows = await db.$queryRaw<{ n: number }[]>(Prisma.sql`SELECT ${countSql(where)} AS n`);
  return rows[0]!.n;
}

function whereClause(input: ListInstancesInput): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  const archived = input.archived ?? "exclude";
  if (archived !== "include") conditions.push(Prisma.raw(`i."isArchived" = ${archived === "only"}`));
  const q = input.q?.trim();
  if (q) conditions.push(searchCondition(q));
  if (input.state) conditions.push(STATE_CONDITIONS[input.state]);
  return conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}

type PageRow = InstanceListRow & { total: number };

/**
 * One page by name with its badges, each row also carrying the count of all matches: one round
 * trip to the database. A search or a state filter reads every instance anyway, so it counts the
 * matches in that same scan (a window); without one, the page comes from the sortName index and the
 * count from an index-only scan.
 */
function pageQuery(deps: Pick<Deps, "db">, where: Prisma.Sql, input: ListInstancesInput) {
  const q = input.q?.trim();
  const total = q || input.state ? Prisma.sql`count(*) OVER ()::int` : countSql(where);
  return readPage<PageRow>(deps.db, Prisma.sql`
    WITH page AS (
      SELECT i.id, i.name, i."sortName", i."internalLmsDomain", i."isArchived", ${total} AS total
      FROM "Instance" i ${where}
      ORDER BY i."sortName", i.id
      LIMIT ${sqlInteger(input.limit)} OFFSET ${sqlInteger(input.offset ?? 0)}
    )
    SELECT p.id, p.name, p."internalLmsDomain", p."isArchived", p.total, active.n AS "activeAppServers", latest.status::text AS "latestStatus"
    FROM page p
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n FROM "AppServer" a WHERE a."instanceId" = p.id AND a."isActive"
    ) active
    LEFT JOIN LATERAL ${newestAppServer(Prisma.sql`p.id`, Prisma.sql`newest.status`)} latest ON true
    ORDER BY p."sortName", p.id`, { firstPage: !!input.prepare && !input.offset, samePlanValues: searchPlanValues(q ?? "") });
}

export async function listInstances(deps: Pick<Deps, "db">, input: ListInstancesInput): Promise<InstanceList> {
  const where = whereClause(input);
  const rows = await pageQuery(deps, where, input);
  // An empty page means no matches, unless it could not show them: no room (limit 0) or past the end.
  const total = rows[0]?.total ?? (input.offset || input.limit === 0 ? await countMatching(deps.db, where) : 0);
  // Each field named: a rest and a spread cost ~80 µs a 100-row page (V8 copies them generically).
  const page = rows.map((r) => ({ id: r.id, name: r.name, internalLmsDomain: r.internalLmsDomain, isArchived: r.isArchived, activeAppServers: r.activeAppServers, latestStatus: r.latestStatus }));
  return { rows: page, total };
}
