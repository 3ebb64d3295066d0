// Which instances a roll-out takes (docs/rollouts.md): every instance that is not archived and
// matches all the filters given (release, tag, balancer, the console's search), by name. The form's
// preview and the roll-out itself read the same query, so what the operator saw is what is launched.
import type { Prisma as P } from "../../db.js";
import { Prisma } from "../../generated/prisma/client.ts";
import { searchCondition } from "../instances/list-instances.js";

export interface RolloutFilter {
  /** The instance's Open edX release, exactly. */
  release?: string;
  /** One of the instance's tags, exactly. */
  tag?: string;
  loadBalancerId?: number;
  /** Name or any domain contains it (the console's search). */
  q?: string;
}

export interface SelectedInstance {
  id: number;
  name: string;
  internalLmsDomain: string;
  openedxRelease: string;
  tags: string[];
  loadBalancerName: string | null;
}

/** How many instances the preview lists; the count covers them all. */
export const PREVIEW_LIMIT = 200;

function whereOf(filter: RolloutFilter): Prisma.Sql {
  const conditions = [Prisma.sql`NOT i."isArchived"`];
  if (filter.release) conditions.push(Prisma.sql`i."openedxRelease" = ${filter.release}`);
  if (filter.tag) conditions.push(Prisma.sql`i.tags @> ARRAY[${filter.tag}]::text[]`);
  if (filter.loadBalancerId) conditions.push(Prisma.sql`i."loadBalancerId" = ${filter.loadBalancerId}`);
  if (filter.q) conditions.push(searchCondition(filter.q));
  return Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}`;
}

/** The matching instances by name (at most `limit`), and how many match in all. */
export async function selectRolloutInstances(db: Pick<P.TransactionClient, "$queryRaw">, filter: RolloutFilter, limit?: number): Promise<{ rows: SelectedInstance[]; total: number }> {
  const rows = await db.$queryRaw<(SelectedInstance & { total: number })[]>(Prisma.sql`
    SELECT i.id, i.name, i."internalLmsDomain", i."openedxRelease", coalesce(i.tags, ARRAY[]::text[]) AS tags,
           lb.name AS "loadBalancerName", count(*) OVER ()::int AS total
    FROM "Instance" i LEFT JOIN "LoadBalancer" lb ON lb.id = i."loadBalancerId"
    ${whereOf(filter)}
    ORDER BY i."sortName", i.id
    ${limit === undefined ? Prisma.empty : Prisma.sql`LIMIT ${limit}`}`);
  const total = rows[0]?.total ?? 0;
  return { rows: rows.map(({ total: _total, ...row }) => row), total };
}

/** The filters in words, kept on the roll-out ("release olive, tag pilot"); "all instances" without any. */
export function describeFilter(filter: RolloutFilter, loadBalancerName?: string | null): string {
  const parts = [
    filter.release ? `release ${filter.release}` : null,
    filter.tag ? `tag ${filter.tag}` : null,
    filter.loadBalancerId ? `balancer ${loadBalancerName ?? `#${filter.loadBalancerId}`}` : null,
    filter.q ? `search "${filter.q}"` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "all instances";
}
