// The Prisma client over adapter-pg (no native engine: see prisma.config.ts), on a pg pool whose
// connections keep their statements prepared.
import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "./generated/prisma/client.ts";
import type { Config } from "./config.js";

export type Db = PrismaClient;
export type { Prisma } from "./generated/prisma/client.ts";

export interface DbOptions {
  /** Connections in the pool. */
  max?: number;
  /** How many distinct statements each connection keeps prepared (DATABASE_PREPARED_STATEMENTS);
   *  0 sends every query unnamed, parsed and planned anew. */
  preparedPerConnection?: number;
  /** DATABASE_CONNECT_TIMEOUT_MS: a new connection (and a wait for a free one) gives up after this. */
  connectTimeoutMs?: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels a statement that runs longer; 0 = no limit. */
  statementTimeoutMs?: number;
}

/** The pool's settings from the config, for every process that opens the database. */
export function dbOptions(config: Pick<Config, "DATABASE_PREPARED_STATEMENTS" | "DATABASE_CONNECT_TIMEOUT_MS" | "DATABASE_STATEMENT_TIMEOUT_MS">, max: number): DbOptions {
  return {
    max,
    preparedPerConnection: config.DATABASE_PREPARED_STATEMENTS,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  };
}

export function createDb(url: string, options: DbOptions = {}): Db {
  const { max = 10, preparedPerConnection = 100 } = options;
  // Prisma's queries bring their own type parsers; these are for queryRows() below.
  const pool = new pg.Pool({ connectionString: url, max, types: { getTypeParser: typeParser }, ...deadlines(options) });
  if (preparedPerConnection > 0) pool.on("connect", (client) => namePreparedStatements(client, preparedPerConnection));
  // An idle connection the server closed (a restart, an outage): pg drops it from the pool and the
  // next query reports the outage (isDatabaseUnreachable). Unheard, the event would end the process.
  pool.on("error", () => {});
  // The pool is ours: $disconnect() ends it.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

const pools = new WeakMap<Db, pg.Pool>();

// Without these pg waits forever on a server that accepts TCP and then says nothing (a frozen host,
// a proxy whose backend is gone), and so would every page. connectionTimeoutMillis bounds the
// connect and the wait for a free pooled connection; statement_timeout is PostgreSQL's own limit
// (it cancels the statement, 57014); query_timeout is pg's, for a server that stopped answering
// altogether after connecting: a little longer, so a slow statement is PostgreSQL's to cancel.
// Migrations run through the Prisma CLI on a connection of their own, not under these limits.
function deadlines(options: DbOptions): pg.PoolConfig {
  const { connectTimeoutMs = 5000, statementTimeoutMs = 30_000 } = options;
  return {
    connectionTimeoutMillis: connectTimeoutMs,
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + connectTimeoutMs } : {}),
  };
}

/**
 * The rows of a raw query, read with pg directly: for the few queries that run for nearly every
 * page (the session's user, the instance list, the instance page, the admin's instance list).
 * Prisma's $queryRaw spends ~95 µs of CPU on a one-row query that costs pg ~20 µs (measured).
 * Columns come back as from $queryRaw for the types these queries return: int, text, boolean,
 * timestamp (a Date, stored as UTC), json and arrays; tests/db.test.ts compares the two.
 * Cast counts to int and enums to text in the SQL. A transaction client goes through Prisma.
 */
export async function queryRows<T>(db: Db | Prisma.TransactionClient, query: Prisma.Sql): Promise<T[]> {
  const pool = pools.get(db as Db);
  if (!pool) return (db as Db).$queryRaw<T[]>(query);
  const values = query.values.map((v) => (v instanceof Date ? v.toISOString() : v));
  return (await pool.query({ text: query.text, values })).rows as T[];
}

// Prisma's DateTime is a timestamp without time zone, holding UTC; pg would read it as local time.
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;
function typeParser(oid: number, format?: string): (text: string) => unknown {
  if (oid === TIMESTAMP_OID) return (text) => new Date(`${text.replace(" ", "T")}Z`);
  if (oid === INT8_OID) return (text) => BigInt(text); // as $queryRaw returns it
  return pg.types.getTypeParser(oid, format as "text");
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

/** A connection of its own to the same database, outside the pool: for LISTEN, which keeps it. */
export function separateConnection(db: Db): pg.Client {
  const pool = pools.get(db);
  if (!pool) throw new Error("separateConnection needs a client made by createDb.");
  return new pg.Client({ connectionString: pool.options.connectionString, connectionTimeoutMillis: pool.options.connectionTimeoutMillis });
}

export const DATABASE_DOWN =
  "The database is not reachable, so Ocim cannot show or change anything right now. Nothing was changed; try again in a moment, and tell an admin if it persists.";

// What PostgreSQL's absence looks like: Prisma's own codes (P1001 can't reach, P1002 timed out,
// P1017 server closed the connection), the socket's, and PostgreSQL's while it shuts down or starts
// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 08xxx connection failures).
const UNREACHABLE = /^(P1001|P1002|P1017|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|57P0[123]|08\d{3})$/;
// pg's own words when the server goes away mid-query (it sets no code then), or never answers.
// "Connection terminated due to connection timeout" is pg's after DATABASE_CONNECT_TIMEOUT_MS, "timeout
// exceeded when trying to connect" the pool's, "Query read timeout" pg's query_timeout.
const UNREACHABLE_TEXT = /^Connection terminated|server closed the connection unexpectedly|terminating connection due to administrator command|^timeout exceeded when trying to connect|^Query read timeout/;

/** True when `err` (from Prisma, adapter-pg or pg) says the database cannot be reached right now. */
export function isDatabaseUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown; originalCode?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    for (const code of [e.code, e.originalCode]) if (typeof code === "string" && UNREACHABLE.test(code)) return true;
    if (typeof e.message === "string" && UNREACHABLE_TEXT.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export const DATABASE_SLOW =
  "The database did not answer in time (it may be overloaded or a table is locked). Nothing was changed; try again in a moment, and tell an admin if it persists.";

/** True when PostgreSQL cancelled the statement: DATABASE_STATEMENT_TIMEOUT_MS ran out (57014, query_canceled). */
export function isDatabaseTimeout(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; originalCode?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code === "57014" || e.originalCode === "57014") return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** `text` with LIKE's wildcards escaped (backslash is PostgreSQL's default escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A LIKE pattern that matches `text` literally anywhere. */
export function containsPattern(text: string): string {
  return `%${escapeLike(text)}%`;
}
