// The extent of an appserver's stored log: what the viewer sizes its scrollbar by, and whether
// the log can still grow. Both ends come from the (appServerId, seq) index.
import type { Deps } from "../../deps.js";
import type { LogPageResult } from "./read-log.js";

export interface LogBounds {
  /** 0 when the log is empty. Not always 1: old lines may have been purged. */
  firstSeq: number;
  lastSeq: number;
  /** When the last line was stored (ISO), or null when the log is empty. */
  lastAt: string | null;
  /** No more lines will come: provisioning is over (running, failed, error, terminated…). */
  finished: boolean;
}

/** Lines are written while an appserver is provisioned; in any other status its log is complete. */
const GROWING = new Set(["new", "waiting", "configuring"]);

export function isLogFinished(status: string): boolean {
  return !GROWING.has(status);
}

/**
 * The bounds told by the newest lines (readLog without after/before, which says the first seq too):
 * the appserver page reads its tail with the appserver and needs no query here.
 */
export function tailBounds(tail: LogPageResult, status: string): LogBounds {
  const last = tail.lines.at(-1);
  return { firstSeq: tail.firstSeq, lastSeq: last?.seq ?? 0, lastAt: last?.at ?? null, finished: isLogFinished(status) };
}

export async function getLogBounds(deps: Pick<Deps, "db">, input: { appServerId: number; status: string }): Promise<LogBounds> {
  const select = { seq: true, createdAt: true } as const;
  const where = { appServerId: input.appServerId };
  const [first, last] = await Promise.all([
    deps.db.logEntry.findFirst({ where, orderBy: { seq: "asc" }, select }),
    deps.db.logEntry.findFirst({ where, orderBy: { seq: "desc" }, select }),
  ]);
  return { firstSeq: first?.seq ?? 0, lastSeq: last?.seq ?? 0, lastAt: last?.createdAt.toISOString() ?? null, finished: isLogFinished(input.status) };
}
