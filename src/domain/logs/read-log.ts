// Pages of an appserver's stored log, by seq (index (appServerId, seq)):
//   tail        the last `limit` lines (the page's first render);
//   after seq   the next lines (a reconnecting viewer, the API's follow mode);
//   before seq  the lines just before (the viewer's "load earlier").
// Lines always come back in seq order; `more` says whether the log goes on in the direction read.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
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
}

const SELECT = { seq: true, level: true, text: true, createdAt: true } as const;

export async function readLog(deps: Pick<Deps, "db">, page: LogPage): Promise<LogPageResult> {
  const limit = page.limit ?? DEFAULT_READ_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_READ_LIMIT) {
    throw new AppError("validation", `limit must be a whole number from 1 to ${MAX_READ_LIMIT}.`, { fields: { limit: `1 to ${MAX_READ_LIMIT}` } });
  }
  const { appServerId } = page;
  // One row more than asked tells whether there is more, without a count.
  if ("after" in page) {
    const rows = await deps.db.logEntry.findMany({
      where: { appServerId, seq: { gt: page.after } }, orderBy: { seq: "asc" }, take: limit + 1, select: SELECT,
    });
    return { lines: rows.slice(0, limit).map(toLine), more: rows.length > limit };
  }
  const rows = await deps.db.logEntry.findMany({
    where: { appServerId, ...("before" in page ? { seq: { lt: page.before } } : {}) },
    orderBy: { seq: "desc" }, take: limit + 1, select: SELECT,
  });
  return { lines: rows.slice(0, limit).reverse().map(toLine), more: rows.length > limit };
}

function toLine(row: { seq: number; level: LogLine["level"]; text: string; createdAt: Date }): LogLine {
  return { seq: row.seq, level: row.level, text: row.text, at: row.createdAt.toISOString() };
}
