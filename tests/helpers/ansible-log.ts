// A long ansible-shaped log stored straight in PostgreSQL (one INSERT … SELECT over
// generate_series): 1,000,000 lines in seconds, for the log viewer's tests and bench/log-viewer.ts.
// Shape, as ansible's default callback prints it: "PLAY [play K] ****" every 5,000 lines,
// "TASK [demo : task K] ****" every 50, "ok: [localhost] => (item=line N)" between them, a
// "[WARNING]: …" every 997 lines, an optional "fatal: [localhost]: FAILED! => {…}" and a final
// "PLAY RECAP". Lines are stored `gapMs` (7 ms) apart from `start` (1,000,000 lines ≈ a 2-hour run).
import type { Deps } from "../../src/deps.js";

export const LINE_GAP_MS = 7;

export interface AnsibleLogShape {
  appServerId: number;
  lines: number;
  /** The seq of the one failed line (level error). */
  failAt?: number;
  start?: Date;
  /** Time between lines (default LINE_GAP_MS). */
  gapMs?: number;
}

export function ansibleLineText(seq: number, shape: Pick<AnsibleLogShape, "lines" | "failAt">): string {
  if (seq === shape.failAt) return `fatal: [localhost]: FAILED! => {"changed": false, "msg": "step ${seq} failed"}`;
  if (seq === shape.lines) return "PLAY RECAP *********************************************************************";
  if (seq % 5000 === 1) return `PLAY [play ${Math.floor(seq / 5000) + 1}] *****************************************************`;
  if (seq % 50 === 2) return `TASK [demo : task ${Math.floor(seq / 50) + 1}] ***************************************************`;
  if (seq % 997 === 0) return `[WARNING]: something looks odd at line ${seq}`;
  return `ok: [localhost] => (item=line ${seq})`;
}

export async function seedAnsibleLog(deps: Pick<Deps, "db">, shape: AnsibleLogShape): Promise<void> {
  const gap = shape.gapMs ?? LINE_GAP_MS;
  const start = shape.start ?? new Date(Date.now() - shape.lines * gap);
  const failAt = shape.failAt ?? 0;
  // Batches keep each statement's memory small; the text is ansibleLineText's, in SQL.
  for (let from = 1; from <= shape.lines; from += 250_000) {
    const to = Math.min(shape.lines, from + 249_999);
    await deps.db.$executeRaw`
      INSERT INTO "LogEntry" ("appServerId", "seq", "level", "text", "createdAt")
      SELECT ${shape.appServerId}, s,
        (CASE WHEN s = ${failAt} THEN 'error' WHEN s % 997 = 0 AND s <> ${shape.lines} AND s % 5000 <> 1 AND s % 50 <> 2 THEN 'warn' ELSE 'info' END)::"LogLevel",
        CASE WHEN s = ${failAt} THEN 'fatal: [localhost]: FAILED! => {"changed": false, "msg": "step ' || s || ' failed"}'
             WHEN s = ${shape.lines} THEN 'PLAY RECAP *********************************************************************'
             WHEN s % 5000 = 1 THEN 'PLAY [play ' || (s / 5000 + 1) || '] *****************************************************'
             WHEN s % 50 = 2 THEN 'TASK [demo : task ' || (s / 50 + 1) || '] ***************************************************'
             WHEN s % 997 = 0 THEN '[WARNING]: something looks odd at line ' || s
             ELSE 'ok: [localhost] => (item=line ' || s || ')' END,
        ${start}::timestamp + (s * ${gap}) * interval '1 millisecond'
      FROM generate_series(${from}::int, ${to}::int) AS s`;
  }
}
