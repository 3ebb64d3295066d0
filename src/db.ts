// The Prisma client over adapter-pg (no native engine: see prisma.config.ts), on a pg pool of ours
// (for its deadlines and for separateConnection). Every read and write goes through this client:
// its model API, or $queryRaw for the few queries a model query cannot say in one round trip; the
// instance and appserver pages and the 100-row lists read JSON rows straight from the pool instead
// (readJson), as prepared statements where DATABASE_PREPARED_STATEMENTS is on.
import { createHash } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { Prisma, PrismaClient } from "./generated/prisma/client.ts";
import type { Config } from "./config.js";
import type { Logger } from "./logger.js";

export type Db = PrismaClient;
export type { Prisma };

export interface DbOptions {
  /** Connections in the pool. */
  max?: number;
  /** DATABASE_CONNECT_TIMEOUT_MS: a new connection (and a wait for a free one) gives up after this. */
  connectTimeoutMs?: number;
  /** DATABASE_STATEMENT_TIMEOUT_MS: PostgreSQL cancels a statement that runs longer; 0 = no limit. */
  statementTimeoutMs?: number;
  /** DATABASE_PREPARED_STATEMENTS: readJson's statements as named prepared statements. */
  preparedStatements?: boolean;
  /** Where readJson says that the server lost its prepared statements (then it reads without them). */
  log?: Pick<Logger, "error">;
}

/** The pool's settings from the config, for every process that opens the database. */
export function dbOptions(
  config: Pick<Config, "DATABASE_CONNECT_TIMEOUT_MS" | "DATABASE_STATEMENT_TIMEOUT_MS" | "DATABASE_PREPARED_STATEMENTS">,
  max: number,
  log?: Pick<Logger, "error">,
): DbOptions {
  return {
    max,
    log,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
  };
}

export function createDb(url: string, options: DbOptions = {}): Db {
  const { max = 10, preparedStatements = false, log } = options;
  const pool = new pg.Pool({ connectionString: url, max, ...deadlines(options) });
  // An idle connection the server closed (a restart, an outage): pg drops it from the pool and the
  // next query reports the outage (isDatabaseUnreachable). Unheard, the event would end the process.
  pool.on("error", () => {});
  // The pool is ours: $disconnect() ends it.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, { pool, preparing: preparedStatements, log });
  return db;
}

/** Each client's pool; `preparing`: readJson prepares its statements (until the server loses one). */
const pools = new WeakMap<Db, { pool: pg.Pool; preparing: boolean; log?: Pick<Logger, "error"> }>();
/** Prepared statements' names by their text: a handful of texts, each hashed once. */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `ocim_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`));
  return name;
}

// What PostgreSQL answers through a pooler in transaction mode that does not keep prepared statements
// (PgBouncer before 1.21, https://www.pgbouncer.org/faq.html#how-to-use-prepared-statements-with-transaction-pooling):
// a Bind lands on a server connection that never saw its Parse (26000, invalid_sql_statement_name),
// or a Parse on one that another client already gave the name (42P05, duplicate_prepared_statement).
const LOST_PREPARED = new Set(["26000", "42P05"]);

export const PREPARED_STATEMENTS_LOST =
  "DATABASE_PREPARED_STATEMENTS is on, but PostgreSQL lost a prepared statement: a pooler in transaction mode that does not keep them (PgBouncer before 1.21, or max_prepared_statements = 0) is in between. This process reads without prepared statements from now on; turn DATABASE_PREPARED_STATEMENTS off, or let the pooler keep them.";

/**
 * The rows of `select`, each read as one JSON value (to_json of the row), parsed: straight from the
 * pool, not through Prisma.
 *
 * The one second way to read the database (STYLE 15), for the pages that miss issue 17's goal
 * without it (bench/README.md):
 *
 * - The instance and appserver pages (`prepared`) read everything in one statement with a dozen
 *   subqueries, whose planning cost PostgreSQL 0.6–1.3 ms on every view (its execution 0.25–0.4 ms),
 *   and sending and describing it ~1 ms of the web process's CPU. With DATABASE_PREPARED_STATEMENTS
 *   the statement goes to pg as a named prepared statement (node-postgres's `name`,
 *   https://node-postgres.com/features/queries#prepared-statements), so PostgreSQL parses and plans
 *   it once per connection, and after five runs keeps a generic plan
 *   (https://www.postgresql.org/docs/15/sql-prepare.html). Measured on the instance page, one web
 *   process, 20 clients: as a $queryRaw 265–307 req/s (web 3.1–3.4 ms, PostgreSQL 1.8–1.9 ms of CPU
 *   per view), prepared 481–728 req/s (1.4–2.3 ms, 0.37–0.48 ms). Only reads of one object by its id
 *   and the first pages of the lists (readPage) are prepared: the one-object reads' best plan is the
 *   same for every id, and the lists write their few values into the text (sqlInteger, choiceSql) and
 *   hide a search pattern from the planner (searchCondition), so that PostgreSQL plans each once per
 *   connection (with a LIMIT parameter it planned them on every view).
 * - The admin's appserver list and audit trail: their first pages prepared, 1.35× and 1.25× the
 *   views of a $queryRaw side by side (bench/README.md, 2026-12-04 21:25).
 * - The instance lists (the admin's change list and search, the console's list and search) read a
 *   page of 100 rows. Through Prisma's $queryRaw the change list's statement cost the web process
 *   550–770 µs of CPU at 10 concurrent reads, as JSON rows from the pool 190–340 µs; Prisma also kept
 *   ~33 KB of each result past two young-generation collections, to be marked and compacted in the old
 *   one. The change list and the two searches were the pages whose p95 stayed above 50 ms at 20
 *   clients (52.8–81.8 ms in the 00:42 compare of 2026-12-04). One web process, 20 clients, three rounds alternately, web CPU
 *   per view: change list 2.1–3.7 → 1.4–2.0 ms, admin search 1.5–2.8 → 1.2–1.7, console search
 *   1.8–1.9 → 1.3–1.8.
 *
 * Behind a pooler in transaction mode a prepared statement may be missing on the next transaction's
 * server connection (PgBouncer before 1.21, or with max_prepared_statements = 0): the first such error
 * is logged (PREPARED_STATEMENTS_LOST) and the process reads without prepared statements from then on,
 * so a page is never lost to it.
 *
 * The value is parsed by pg's parser for json (JSON.parse), as Prisma's $queryRaw would
 * (tests/db.test.ts); timestamps inside it are text (jsonTimestamp). A prepared statement's name is
 * the text's digest: one text, one statement; a different text can never reuse another's name, which
 * pg refuses.
 */
export async function readJson<T>(db: Db, select: Prisma.Sql, { prepared = false }: { prepared?: boolean } = {}): Promise<T[]> {
  const query = Prisma.sql`SELECT to_json(r) AS json FROM (${select}) r`;
  const entry = pools.get(db);
  // A client createDb did not make (a test's wrapper around one) has no pool of ours: through Prisma.
  if (!entry) return (await db.$queryRaw<{ json: T }[]>(query)).map((r) => r.json);
  // pg would send a Date in the process's time zone, where Prisma sends UTC: only plain values here.
  const bad = query.values.find((v) => v !== null && typeof v === "object");
  if (bad !== undefined) throw new Error(`readJson takes numbers, strings and booleans as values, not ${Object.prototype.toString.call(bad)}`);
  const read = async (name?: string) =>
    (await entry.pool.query<{ json: T }>({ name, text: query.text, values: query.values })).rows.map((r) => r.json);
  if (!prepared || !entry.preparing) return read();
  try {
    return await read(statementName(query.text));
  } catch (err) {
    if (!LOST_PREPARED.has((err as { code?: unknown }).code as string)) throw err;
    // A setting that cannot work here: said once, and the page is read the other way.
    if (entry.preparing) {
      entry.preparing = false;
      const { message, code } = err as { message: string; code: string };
      entry.log?.error({ err: { message, code }, detail: PREPARED_STATEMENTS_LOST }, "db.prepared_statements.lost");
    }
    return read();
  }
}

/**
 * A whole number written into a statement's text (a page's LIMIT or OFFSET), so that a prepared
 * statement need not take it as a parameter: with a LIMIT parameter PostgreSQL plans the statement
 * again on every run, as plan_cache_mode auto prices the generic plan of an unknown LIMIT above a
 * planned one (the change list's bind took 0.45 ms of its 1.5: bench/README.md, 2026-12-04 21:25).
 * Only numbers the program computed (a page number times a page size) come here.
 */
export function sqlInteger(n: number): Prisma.Sql {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`A page's LIMIT and OFFSET are whole numbers, not ${n}`);
  return Prisma.raw(String(n));
}

/**
 * A list's page (readJson), prepared (with DATABASE_PREPARED_STATEMENTS) when it is the first page,
 * the one every visit opens, and none of its parameters changes its plan: `samePlanValues` of its
 * values are known not to (a search pattern that searchCondition hides from the planner), and any
 * other parameter is planned afresh with its value. Only first pages: each OFFSET is a statement of
 * its own, and a connection would keep one for every page anybody opened; the statements a
 * connection keeps are bounded by the lists' orders and filter choices.
 */
export function readPage<T>(db: Db, statement: Prisma.Sql, { firstPage, samePlanValues = 0 }: { firstPage: boolean; samePlanValues?: number }): Promise<T[]> {
  return readJson<T>(db, statement, { prepared: firstPage && statement.values.length === samePlanValues });
}

// Without these pg waits forever on a server that accepts TCP and then says nothing (a frozen host,
// a proxy whose backend is gone, a managed database failing over), and so would every page.
// connectionTimeoutMillis bounds the connect and the wait for a free pooled connection;
// statement_timeout is PostgreSQL's own limit (it cancels the statement, 57014); the read deadline
// (clientCalledBack) is for a server that stopped answering altogether after connecting: a
// little longer, so a slow statement is PostgreSQL's to cancel. Migrations run through the Prisma
// CLI on a connection of their own, not under these limits.
function deadlines(options: DbOptions): pg.PoolConfig {
  const { connectTimeoutMs = 5000, statementTimeoutMs = 30_000, log } = options;
  return {
    connectionTimeoutMillis: connectTimeoutMs,
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    Client: clientCalledBack(statementTimeoutMs > 0 ? statementTimeoutMs + connectTimeoutMs : null, log),
  };
}

type QueryCallback = (err: Error | null, result?: pg.QueryResult) => void;

/**
 * pg's Client, each of whose queries is called back by a closure made here, and fails once
 * `deadlineMs` pass without its answer. pg's own two ways of answering a query that was not given a
 * callback (its promise form, as in a Prisma transaction) or that has a deadline (`query_timeout`)
 * are closures made inside Client.query (pg/lib/client.js) and set on the query, and with either,
 * every result was still reachable at the next young-generation collection: V8 copied it, then
 * moved it to the old generation. Measured (--trace-gc-nvp, one connection reading the admin change
 * list's 100 rows in a loop): query_timeout 1.45 MB promoted per scavenge, pauses of 7.3 ms; the
 * promise form 1.72 MB, 9.5 ms; a callback and no deadline 0.01 MB, 0.5 ms; this class, deadline
 * and promise form included, 0.01 MB, 0.6–0.7 ms. In the web process at 20 clients the scavenges
 * paused it 16.8 ms each, against 4.9 (bench/README.md, 2026-12-04 18:31; no upstream issue found,
 * the nearest is brianc/node-postgres#3497).
 * At the deadline the connection is closed, as pg-pool closes one that does not connect in time
 * (pg-pool's newClient: `client.connection.stream.destroy()`): its queries fail with pg's
 * "Connection terminated unexpectedly" (isDatabaseUnreachable), and the pool replaces it. A
 * Submittable (a cursor) is passed to pg as it is; Ocim submits none.
 */
export function clientCalledBack(deadlineMs: number | null, log?: Pick<Logger, "error">): typeof pg.Client {
  const query = pg.Client.prototype.query as (this: pg.Client, config: unknown, values?: unknown, callback?: QueryCallback) => unknown;
  const withDeadline = (client: pg.Client, callback: QueryCallback): QueryCallback => {
    if (deadlineMs === null) return callback;
    const timer = setTimeout(() => {
      log?.error({ deadlineMs }, "db.read_deadline");
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    }, deadlineMs);
    return (err, result) => {
      clearTimeout(timer);
      callback(err, result);
    };
  };
  function calledBack(this: pg.Client, config: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof (config as Partial<pg.Submittable> | null)?.submit === "function") return query.call(this, config, values, callback as QueryCallback);
    // pg's own forms: (config, callback), (config, values, callback), a config with its callback;
    // without a callback, a promise.
    const [params, done] = typeof values === "function"
      ? [undefined, values as QueryCallback]
      : [values, (callback ?? (config as { callback?: unknown } | null)?.callback) as QueryCallback | undefined];
    if (done) return query.call(this, config, params, withDeadline(this, done));
    return new Promise((resolve, reject) => query.call(this, config, params, withDeadline(this, (err, result) => (err ? reject(err) : resolve(result)))));
  }
  return class CalledBackClient extends pg.Client {
    override query = calledBack as pg.Client["query"];
  };
}

/** A connection of its own to the same database, outside the pool: for LISTEN, which keeps it. */
export function separateConnection(db: Db): pg.Client {
  const pool = pools.get(db)?.pool;
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
// exceeded when trying to connect" the pool's; at the read deadline the connection is closed, "Connection
// terminated unexpectedly".
const UNREACHABLE_TEXT = /^Connection terminated|server closed the connection unexpectedly|terminating connection due to administrator command|^timeout exceeded when trying to connect/;

/** True when `err` (from Prisma, adapter-pg or pg) says the database cannot be reached right now. */
export function isDatabaseUnreachable(err: unknown): boolean {
  for (const e of errorChain(err)) {
    for (const code of [e.code, e.originalCode]) if (typeof code === "string" && UNREACHABLE.test(code)) return true;
    if (typeof e.message === "string" && UNREACHABLE_TEXT.test(e.message)) return true;
    // The driver adapter's own classification of a $queryRaw's failure.
    if (typeof e.kind === "string" && UNREACHABLE_KINDS.has(e.kind)) return true;
  }
  return false;
}

const UNREACHABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);

type ChainLink = { code?: unknown; cause?: unknown; message?: unknown; originalCode?: unknown; kind?: unknown; meta?: { driverAdapterError?: unknown } };

/**
 * An error and what it wraps: a model query's error has the driver's in `cause`; a $queryRaw's
 * ("Raw query failed", P2010) in meta.driverAdapterError.
 */
function* errorChain(err: unknown): Generator<ChainLink> {
  for (let e = err as ChainLink | undefined, depth = 0; e && depth < 5; depth++) {
    yield e;
    e = (e.cause ?? e.meta?.driverAdapterError) as ChainLink | undefined;
  }
}

export const DATABASE_SLOW =
  "The database did not answer in time (it may be overloaded or a table is locked). Nothing was changed; try again in a moment, and tell an admin if it persists.";

/** True when PostgreSQL cancelled the statement: DATABASE_STATEMENT_TIMEOUT_MS ran out (57014, query_canceled). */
export function isDatabaseTimeout(err: unknown): boolean {
  for (const e of errorChain(err)) if (e.code === "57014" || e.originalCode === "57014") return true;
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

/**
 * A TIMESTAMP(3) inside JSON that PostgreSQL built (json_build_object, json_agg): "2026-12-02T10:45:34.6",
 * without a zone. Prisma keeps every DateTime in UTC, so it is read as UTC whatever the process's TZ.
 */
export function jsonTimestamp(text: string): Date;
export function jsonTimestamp(text: string | null): Date | null;
export function jsonTimestamp(text: string | null): Date | null {
  return text === null ? null : new Date(`${text}Z`);
}

/** The same as Date#toISOString writes it ("2026-12-02T10:45:34.600Z"), without a Date when it can. */
export function isoOfJsonTimestamp(text: string): string {
  return text.length === 23 ? `${text}Z` : jsonTimestamp(text).toISOString();
}
