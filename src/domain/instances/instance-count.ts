// The unfiltered totals of the instance lists, as SQL: read from the one-row InstanceCount that
// triggers on Instance keep (migration 20261125030000_instance_count), instead of counting every
// instance on each page view. Should that row be missing, the instances are counted.
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
