// Pages of an appserver's stored log, by seq (index (appServerId, seq)):
//   tail        the last `limit` lines (the page's first render);
//   after seq   the next lines (a reconnecting viewer, the API's follow mode);
//   before seq  the lines just before (the viewer's "load earlier").
// Lines always come back in seq order; `more` says whether the log goes on in the direction read.
// One raw statement whose lines come back as one JSON value: the appserver page reads 100 of them
// on every view, and as a Prisma model query that cost the web process 2.9–3.9 ms of CPU (as raw
// rows 1.6–2.2 ms: Prisma converts each value) against ~0.6 ms (issue 17, bench/README.md).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { isoOfJsonTimestamp } from "../../db.js";
import { Prisma } from "../../generated/prisma/client.ts";
import type { LogLine } from "./live-channels.js";

export const MAX_READ_LIMIT = 2000;
export const DEFAULT_READ_LIMIT = 200;

export type LogPage =
  | { appServerId: number; limit?: number }
  | { appServerId: number; after: number; limit?: number }
  | { appServerId: number; before: number; limit?: number };

export interface LogPageResult {
  lines: LogLine[];
  /** tail/before: earlier lines exist. after: later lines exist (beyond this page). */
  more: boolean;
  /** The log's first stored line (0 when it is empty; not always 1: old lines may have been purged). */
  firstSeq: number;
}

export async function readLog(deps: Pick<Deps, "db">, page: LogPage): Promise<LogPageResult> {
  const { appServerId, ...range } = page;
  const [row] = await deps.db.$queryRaw<[LogPageColumns]>(Prisma.sql`SELECT ${logPageColumns(Prisma.sql`${appServerId}`, range)}`);
  return logPageOf(row, range);
}

type LogRange = Omit<LogPage, "appServerId">;

/** A line as logPageColumns reads it: [seq, level, text, stored at (JSON's timestamp text)]. */
type LineRead = [seq: number, level: LogLine["level"], text: string, at: string];

/** What logPageColumns reads. */
export interface LogPageColumns {
  lines: LineRead[];
  firstSeq: number;
}

/**
 * The columns "lines" and "firstSeq" of a page of the log of the appserver whose id is `id` (a value,
 * or a column of the statement they go in: the appserver page reads its tail with the appserver).
 */
export function logPageColumns(id: Prisma.Sql, range: LogRange): Prisma.Sql {
  const limit = range.limit ?? DEFAULT_READ_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw new AppError("validation", `limit must be a whole number from 1 to ${MAX_READ_LIMIT}.`, { fields: { limit: `1 to ${MAX_READ_LIMIT}` } });
  }
  const forward = "after" in range;
  const from = forward ? Prisma.sql`AND e.seq > ${range.after}` : "before" in range ? Prisma.sql`AND e.seq < ${range.before}` : Prisma.empty;
  // One row more than asked tells whether there is more, without a count. Each line an array, not an
  // object: the appserver page's 101 lines cost PostgreSQL 0.21 ms against 0.26–0.27 (pgbench,
  // prepared, one client), and JSON.parse no key names (issue 17).
  return Prisma.sql`
    (SELECT coalesce(json_agg(json_build_array(e.seq, e.level, e.text, e."createdAt")), '[]')
     FROM (SELECT e.seq, e.level, e.text, e."createdAt" FROM "LogEntry" e WHERE e."appServerId" = ${id} ${from}
           ORDER BY e.seq ${forward ? Prisma.raw("ASC") : Prisma.raw("DESC")} LIMIT ${limit + 1}) e) AS lines,
    (SELECT coalesce(min(f.seq), 0) FROM "LogEntry" f WHERE f."appServerId" = ${id}) AS "firstSeq"`;
}

/** The page that logPageColumns read, for the same range. */
export function logPageOf(row: LogPageColumns, range: LogRange): LogPageResult {
  const limit = range.limit ?? DEFAULT_READ_LIMIT;
  const { firstSeq } = row;
  // Seq order and ISO times are made here, not by the statement (the appserver page's, 100 lines):
  // json_agg's ORDER BY sorted rows the subquery had already read in order (0.05 of its 0.40 ms,
  // pgbench), and to_char on each line cost 0.25 of 1.6 ms (psql). Read backwards (a tail, before),
  // the rows come in reverse order, which the sort turns over in one pass.
  const lines = row.lines.map(([seq, level, text, at]): LogLine => ({ seq, level, text, at: isoOfJsonTimestamp(at) }));
  lines.sort((x, y) => x.seq - y.seq);
  const more = lines.length > limit;
  // In seq order either way: the extra row is the one past the page (after) or before it (tail, before).
  return { lines: !more ? lines : "after" in range ? lines.slice(0, limit) : lines.slice(1), more, firstSeq };
}
