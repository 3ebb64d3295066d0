// The plays and tasks of an appserver's log, with how long each took and whether it failed, and
// the first failed line: the viewer's outline and its "first failure" jump.
// Ansible's default callback prints a header before each play and task:
//   "PLAY [name] ****", "TASK [role : name] ****", "RUNNING HANDLER [role : name] ****",
//   "PLAY RECAP ****" (ansible/plugins/callback/default.py, v2_playbook_on_*_start).
// A task lasts from its header to the next header; the last one to the last line once the log is
// finished (while it grows, it is still running: no duration). Times are the lines' stored times.
// Headers are found by a prefix scan of the appserver's lines (bench/log-viewer.ts measures it on
// 1,000,000 lines); failed lines through the (appServerId, level, seq) index.
import type { Deps } from "../../deps.js";
import type { LogBounds } from "./log-bounds.js";

export const MAX_OUTLINE_HEADERS = 20_000;
const MAX_FAILED_LINES = 5_000;

export interface OutlineTask {
  seq: number;
  name: string;
  handler: boolean;
  at: string;
  /** Null while it runs. */
  durationMs: number | null;
  failed: boolean;
}

export interface OutlinePlay extends Omit<OutlineTask, "handler"> {
  tasks: OutlineTask[];
}

export interface LogOutline {
  plays: OutlinePlay[];
  /** The "PLAY RECAP" line, once the run printed it. */
  recapSeq: number | null;
  /** The first line stored at level error, or null. */
  firstFailureSeq: number | null;
  /** More than MAX_OUTLINE_HEADERS headers: the outline stops there. */
  truncated: boolean;
}

const HEADER_RE = /^(PLAY RECAP|PLAY|TASK|RUNNING HANDLER) (?:\[(.*?)\])?/;

interface Header { seq: number; text: string; createdAt: Date }

export async function getLogOutline(deps: Pick<Deps, "db">, input: { appServerId: number; bounds: LogBounds }): Promise<LogOutline> {
  const id = input.appServerId;
  const [headers, failed] = await Promise.all([
    deps.db.$queryRaw<Header[]>`
      SELECT "seq", "text", "createdAt" FROM "LogEntry" WHERE "appServerId" = ${id}
        AND "text" LIKE ANY (ARRAY['PLAY [%', 'TASK [%', 'RUNNING HANDLER [%', 'PLAY RECAP%'])
        ORDER BY "seq" LIMIT ${MAX_OUTLINE_HEADERS + 1}`,
    deps.db.logEntry.findMany({
      where: { appServerId: id, level: "error" }, orderBy: { seq: "asc" }, take: MAX_FAILED_LINES, select: { seq: true },
    }),
  ]);
  const failedSeqs = failed.map((f) => f.seq);
  const shown = headers.slice(0, MAX_OUTLINE_HEADERS);
  const end = input.bounds.finished && input.bounds.lastAt ? Date.parse(input.bounds.lastAt) : null;
  const plays: OutlinePlay[] = [];
  let recapSeq: number | null = null;
  shown.forEach((h, i) => {
    const m = HEADER_RE.exec(h.text);
    if (!m) return;
    const kind = m[1]!;
    if (kind === "PLAY RECAP") {
      recapSeq = h.seq;
      return;
    }
    const next = shown[i + 1];
    const item: OutlineTask = {
      seq: h.seq, name: m[2] ?? "", handler: kind === "RUNNING HANDLER", at: h.createdAt.toISOString(),
      durationMs: durationOf(h.createdAt.getTime(), next ? next.createdAt.getTime() : end),
      failed: hasFailure(failedSeqs, h.seq, next?.seq ?? Infinity),
    };
    if (kind === "PLAY") {
      const { handler: _handler, ...play } = item;
      plays.push({ ...play, tasks: [] });
    } else {
      if (plays.length === 0) plays.push({ seq: h.seq, name: "", at: item.at, durationMs: null, failed: false, tasks: [] });
      plays.at(-1)!.tasks.push(item);
    }
  });
  closePlays(plays, shown, end, failedSeqs);
  return { plays, recapSeq, firstFailureSeq: failedSeqs[0] ?? null, truncated: headers.length > MAX_OUTLINE_HEADERS };
}

/** A play lasts until the next play or the recap, and failed if any of its lines did. */
function closePlays(plays: OutlinePlay[], headers: Header[], end: number | null, failedSeqs: number[]): void {
  plays.forEach((play, i) => {
    const nextSeq = plays[i + 1]?.seq ?? headers.find((h) => h.seq > play.seq && h.text.startsWith("PLAY RECAP"))?.seq;
    const nextAt = nextSeq === undefined ? end : headers.find((h) => h.seq === nextSeq)!.createdAt.getTime();
    play.durationMs = durationOf(Date.parse(play.at), nextAt);
    play.failed = hasFailure(failedSeqs, play.seq, nextSeq ?? Infinity);
  });
}

function durationOf(start: number, end: number | null): number | null {
  return end === null ? null : Math.max(0, end - start);
}

/** Whether a failed line lies in [from, to); failedSeqs is ascending. */
function hasFailure(failedSeqs: number[], from: number, to: number): boolean {
  let lo = 0;
  let hi = failedSeqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failedSeqs[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < failedSeqs.length && failedSeqs[lo]! < to;
}
