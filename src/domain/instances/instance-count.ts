// The totals of the instance lists. Unfiltered, read from the one-row InstanceCount that triggers
// on Instance keep (migration 20261125030000_instance_count), instead of counting every instance on
// each page view; should that row be missing, the instances are counted. Filtered, counted.
import { queryRows, type Db } from "../../db.js";
import { Prisma } from "../../generated/prisma/client.ts";
import type { ArchivedFilter } from "./list-instances.js";

const COUNTED: Record<ArchivedFilter, Prisma.Sql> = {
  include: Prisma.sql`coalesce((SELECT total FROM "InstanceCount" WHERE id = 1), (SELECT count(*)::int FROM "Instance"))`,
  exclude: Prisma.sql`coalesce((SELECT total - archived FROM "InstanceCount" WHERE id = 1), (SELECT count(*)::int FROM "Instance" WHERE NOT "isArchived"))`,
  only: Prisma.sql`coalesce((SELECT archived FROM "InstanceCount" WHERE id = 1), (SELECT count(*)::int FROM "Instance" WHERE "isArchived"))`,
};

/** How many instances there are, all of them or by archived state, as an SQL expression. */
export function instanceTotalSql(archived: ArchivedFilter): Prisma.Sql {
  return COUNTED[archived];
}

/** How many instances match `where` (a WHERE clause on "Instance" i), as an SQL expression. */
export function matchingTotalSql(where: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(SELECT count(*)::int FROM "Instance" i ${where})`;
}

/** How many instances match `where`, counted. */
export async function countMatching(db: Db, where: Prisma.Sql): Promise<number> {
  const rows = await queryRows<{ n: number }>(db, Prisma.sql`SELECT ${matchingTotalSql(where)} AS n`);
  return rows[0]!.n;
}
