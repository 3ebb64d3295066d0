// Search within one appserver's log, in PostgreSQL: the viewer never holds the whole log, so it
// asks for the next (or previous) lines containing the text, case-insensitively, in seq order.
// The scan walks the (appServerId, seq) index from the reader's position and stops at `limit`
// hits; only the first search of a text counts its hits (capped, so a common word answers fast).
// bench/log-viewer.ts measures both on a 1,000,000-line log (docs/live-logs.md).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";

export const MAX_SEARCH_TEXT = 200;
export const MAX_SEARCH_HITS = 100;
export const COUNT_CAP = 10_000;

export interface LogSearch {
  appServerId: number;
  q: string;
  /** Hits after this seq, ascending (default: from the start), or before it, descending. */
  after?: number;
  before?: number;
  limit?: number;
  /** Also count the hits in the whole log (up to COUNT_CAP). */
  count?: boolean;
}

export interface LogSearchResult {
  hits: { seq: number; text: string }[];
  /** More hits lie beyond the last one, in the direction searched. */
  more: boolean;
  /** With `count`: hits in the whole log, at most COUNT_CAP (then `totalCapped`). */
  total?: number;
  totalCapped?: boolean;
}

/** ILIKE's wildcards and its escape character, taken literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function searchLog(deps: Pick<Deps, "db">, input: LogSearch): Promise<LogSearchResult> {
  const q = input.q.trim();
  if (!q || q.length > MAX_SEARCH_TEXT) {
    throw new AppError("validation", `Search for 1 to ${MAX_SEARCH_TEXT} characters.`, { fields: { q: `1 to ${MAX_SEARCH_TEXT} characters` } });
  }
  const limit = input.limit ?? 20;
  const pattern = likePattern(q);
  const id = input.appServerId;
  const rows = input.before !== undefined
    ? await deps.db.$queryRaw<{ seq: number; text: string }[]>`
        SELECT "seq", "text" FROM "LogEntry" WHERE "appServerId" = ${id} AND "seq" < ${input.before}
          AND "text" ILIKE ${pattern} ORDER BY "seq" DESC LIMIT ${limit + 1}`
    : await deps.db.$queryRaw<{ seq: number; text: string }[]>`
        SELECT "seq", "text" FROM "LogEntry" WHERE "appServerId" = ${id} AND "seq" > ${input.after ?? 0}
          AND "text" ILIKE ${pattern} ORDER BY "seq" ASC LIMIT ${limit + 1}`;
  const result: LogSearchResult = { hits: rows.slice(0, limit), more: rows.length > limit };
  if (input.count) {
    const [counted] = await deps.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (SELECT 1 FROM "LogEntry" WHERE "appServerId" = ${id}
        AND "text" ILIKE ${pattern} LIMIT ${COUNT_CAP + 1}) AS hit`;
    result.total = Math.min(counted!.n, COUNT_CAP);
    result.totalCapped = counted!.n > COUNT_CAP;
  }
  return result;
}
