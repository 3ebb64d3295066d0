// The Prisma client over adapter-pg (no native engine: see prisma.config.ts), on a pg pool whose
// connections keep their statements prepared.
import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type Db = PrismaClient;
export type { Prisma } from "./generated/prisma/client.ts";

/**
 * @param preparedPerConnection how many distinct statements each connection keeps prepared
 *   (DATABASE_PREPARED_STATEMENTS); 0 sends every query unnamed, parsed and planned anew.
 */
export function createDb(url: string, max = 10, preparedPerConnection = 100): Db {
  const pool = new pg.Pool({ connectionString: url, max });
  if (preparedPerConnection > 0) pool.on("connect", (client) => namePreparedStatements(client, preparedPerConnection));
  // The pool is ours: $disconnect() ends it.
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

// adapter-pg sends every query unnamed, so PostgreSQL parses, analyses and plans it each time: for
// the console's busiest pages that was a fifth of the database's CPU (bench/pages). Naming each
// statement after its text lets pg parse it once per connection, and PostgreSQL keep its plan (a
// generic one after five executions if that costs no more than planning anew: PostgreSQL's own
// rule for prepared statements). Like psycopg 3's and JDBC's automatic preparation, but with a cap
// instead of their eviction: a connection that reached it sends further new texts unnamed, so
// nothing needs deallocating (which a failed transaction would refuse).
function namePreparedStatements(client: pg.PoolClient, cap: number): void {
  const prepared = new Set<string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // Every query of adapter-pg comes through here as a config object with text and values.
  client.query = ((config: unknown, ...rest: unknown[]) => {
    if (typeof config === "object" && config !== null && !("name" in config) && typeof (config as pg.QueryConfig).text === "string") {
      const text = (config as pg.QueryConfig).text;
      const name = statementName(text);
      if (!prepared.has(name) && prepared.size < cap) prepared.add(name);
      if (prepared.has(name)) return query({ ...config, name }, ...rest);
    }
    return query(config, ...rest);
  }) as typeof client.query;
}

// A name per text (64 bits of its SHA-1: no two of a process's statements share one), kept for up
// to 1,000 texts so that hashing is not redone for every query.
const names = new Map<string, string>();
const MAX_NAMES = 1000;

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `ocim_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`;
    if (names.size >= MAX_NAMES) names.clear();
    names.set(text, name);
  }
  return name;
}

/** `text` with LIKE's wildcards escaped (backslash is PostgreSQL's default escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern that matches `text` literally anywhere. */
export function containsPattern(text: string): string {
  return `%${escapeLike(text)}%`;
}
