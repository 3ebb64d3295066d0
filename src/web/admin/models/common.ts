// Small pieces the model descriptions share.
import { containsPattern, sqlInteger } from "../../../db.js";
import type { Deps } from "../../../deps.js";
import { instancesByName } from "../../../domain/instances/instance-order.js";
import { Prisma } from "../../../generated/prisma/client.ts";
import type { Filter, Option, PageArgs } from "../types.js";

/** "1 appserver", "1,234 log entries". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

export function yesNoFilter(key: string, label: string, where: (value: boolean) => object): Filter {
  return {
    key,
    label,
    options: () => [{ value: "yes", label: "Yes" }, { value: "no", label: "No" }],
    where: (v) => where(v === "yes"),
  };
}

export function choiceFilter(key: string, label: string, field: string, values: readonly string[]): Filter {
  return { key, label, options: () => values.map((v) => ({ value: v, label: v })), where: (v) => ({ [field]: v }) };
}

/** The most instances a select offers. */
const INSTANCE_CHOICES = 1000;

/**
 * The instances a select offers, in the order of every instance list. Two instances may have the same
 * name (Django's admin never forbade it, and existing fleets have some): such a name is followed by
 * each one's LMS domain, "Upper (upper.example.com)", so that the choice can be told apart. A unique
 * name stays bare, as everywhere else.
 */
export async function instanceOptions(deps: Pick<Deps, "db">, where: Prisma.InstanceWhereInput): Promise<Option[]> {
  const instances = await deps.db.instance.findMany({ where, select: { id: true, name: true, internalLmsDomain: true }, orderBy: instancesByName(), take: INSTANCE_CHOICES });
  const seen = new Map<string, number>();
  for (const i of instances) seen.set(i.name, (seen.get(i.name) ?? 0) + 1);
  return instances.map((i) => ({ value: String(i.id), label: seen.get(i.name)! > 1 ? `${i.name} (${i.internalLmsDomain})` : i.name }));
}

/** What a save returns to the engine: the id, and the name to show in messages. */
export function titled(row: { id: number; name: string }): { id: number; title: string } {
  return { id: row.id, title: row.name };
}

// A raw page (a model's `page`) must give the rows the generic findMany would (tests/admin-changelist.test.ts).

/** The conditions ANDed into a WHERE clause; none, no clause. */
export function whereAll(conditions: Prisma.Sql[]): Prisma.Sql {
  return conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}

/** The list's direction, as SQL. */
export function directionSql(args: Pick<PageArgs, "direction">): Prisma.Sql {
  return Prisma.raw(args.direction === "desc" ? "DESC" : "ASC");
}

/**
 * ORDER BY the sorted column, then the id, both in the list's direction (as the engine orders a
 * findMany), and the page's LIMIT and OFFSET written as numbers (sqlInteger), so that a first page
 * without parameters is planned once per connection (readPage).
 */
export function orderedPage(sort: Record<string, Prisma.Sql>, id: Prisma.Sql, args: PageArgs): Prisma.Sql {
  const direction = directionSql(args);
  return Prisma.sql`ORDER BY ${sort[args.sortField]!} ${direction}, ${id} ${direction} LIMIT ${sqlInteger(args.take)} OFFSET ${sqlInteger(args.skip)}`;
}

/**
 * One of a filter's `choices` written into the text as a string literal, so that a statement
 * filtered by it can still be prepared without parameters (orderedPage). The engine passes only a
 * filter's own options; the choices are words, which need no quoting, and anything else is refused.
 */
export function choiceSql(value: string, choices: readonly string[]): Prisma.Sql {
  if (!choices.includes(value) || !/^[a-z_]+$/.test(value)) throw new Error(`Not one of the filter's choices: ${JSON.stringify(value)}`);
  return Prisma.raw(`'${value}'`);
}

/** Any of the columns contains `q`, as Prisma's `contains` with mode "insensitive" (ILIKE; % and _ taken literally). */
export function containsAny(columns: Prisma.Sql[], q: string, orElse: Prisma.Sql[] = []): Prisma.Sql {
  const pattern = containsPattern(q);
  return Prisma.sql`(${Prisma.join([...columns.map((c) => Prisma.sql`${c} ILIKE ${pattern}`), ...orElse], " OR ")})`;
}
