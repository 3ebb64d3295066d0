// The instance list of the console and the API: search by name or any domain, archived filter,
// one page by name, and each row's badges (active appserver count, newest appserver's status).
// Raw SQL because the badges come from two LATERAL joins over the page only: one query for the
// page however many instances there are (no N+1), plus one count. Values go in as parameters
// through Prisma.sql tagged templates, never spliced into the text.
import type { Deps } from "../../deps.js";
import { Prisma, type AppServerStatus } from "../../generated/prisma/client.ts";

export type ArchivedFilter = "exclude" | "include" | "only";

export interface ListInstancesInput {
  /** Matched case-insensitively against the name and every domain (substring). */
  q?: string;
  archived?: ArchivedFilter;
  limit: number;
  offset?: number;
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

/** A LIKE pattern that matches `text` literally anywhere (backslash is PostgreSQL's default escape). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function whereClause(input: ListInstancesInput): Prisma.Sql {
  const conditions: Prisma.Sql[] = [];
  const archived = input.archived ?? "exclude";
  if (archived !== "include") conditions.push(Prisma.sql`i."isArchived" = ${archived === "only"}`);
  const q = input.q?.trim();
  if (q) {
    const p = containsPattern(q);
    conditions.push(Prisma.sql`(i.name ILIKE ${p} OR i."internalLmsDomain" ILIKE ${p}
      OR i."studioDomain" ILIKE ${p} OR i."previewDomain" ILIKE ${p} OR i."ecommerceDomain" ILIKE ${p}
      OR i."discoveryDomain" ILIKE ${p} OR i."appsDomain" ILIKE ${p}
      OR EXISTS (SELECT 1 FROM unnest(i."externalDomains") AS d WHERE d ILIKE ${p}))`);
  }
  return conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}

export async function listInstances(deps: Pick<Deps, "db">, input: ListInstancesInput): Promise<InstanceList> {
  const where = whereClause(input);
  const [rows, counted] = await Promise.all([
    deps.db.$queryRaw<InstanceListRow[]>`
      WITH page AS (
        SELECT i.id, i.name, i."internalLmsDomain", i."isArchived"
        FROM "Instance" i ${where}
        ORDER BY lower(i.name), i.name, i.id
        LIMIT ${input.limit} OFFSET ${input.offset ?? 0}
      )
      SELECT p.id, p.name, p."internalLmsDomain", p."isArchived",
             active.n AS "activeAppServers", latest.status::text AS "latestStatus"
      FROM page p
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM "AppServer" a WHERE a."instanceId" = p.id AND a."isActive"
      ) active
      LEFT JOIN LATERAL (
        SELECT a.status FROM "AppServer" a WHERE a."instanceId" = p.id
        ORDER BY a."createdAt" DESC, a.id DESC LIMIT 1
      ) latest ON true
      ORDER BY lower(p.name), p.name, p.id`,
    deps.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "Instance" i ${where}`,
  ]);
  return { rows, total: counted[0]?.n ?? 0 };
}
