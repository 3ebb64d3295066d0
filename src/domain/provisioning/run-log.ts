// The log of one provisioning run: Ocim's own lines and the playbook's, in one sequence per
// appserver. Playbook lines are stored in the same transaction as the byte offset they end at,
// so a worker that dies at any moment leaves either both or neither: a resumed job re-reads from
// the stored offset and no line is lost or stored twice (DESIGN §5, §7). A chunk read from the VM
// (up to 1 MiB) is one multi-row insert, the batching of the log writer.
import type { Deps } from "../../deps.js";
import { insertLogBatch, maxLogSeq } from "../logs/insert-log-batch.js";
import type { LogLevel } from "../logs/live-channels.js";
import { publishLogLines } from "../logs/publish.js";
import { createMasker } from "../secrets/mask-secrets.js";
import { prepareLine } from "../logs/log-writer.js";

export interface RunLog {
  info(text: string): Promise<void>;
  warn(text: string): Promise<void>;
  error(text: string): Promise<void>;
  /** Stores playbook lines and the new byte offset atomically, then publishes them. */
  appendPlaybook(lines: string[], newOffset: number): Promise<void>;
  close(): Promise<void>;
}

/** Rows per insert: keeps each statement's arrays reasonable for a 1 MiB chunk of short lines. */
const ROWS_PER_INSERT = 5000;

export async function createRunLog(deps: Pick<Deps, "db" | "redis" | "now">, appServerId: number, secrets: string[]): Promise<RunLog> {
  const mask = createMasker(secrets);
  let seq = await maxLogSeq(deps, appServerId);

  async function store(entries: { level: LogLevel; text: string }[], offset?: number): Promise<void> {
    const lines = entries.map((e) => ({ level: e.level, text: prepareLine(e.text, mask) }));
    const firstSeq = seq + 1;
    await deps.db.$transaction(async (tx) => {
      for (let i = 0; i < lines.length; i += ROWS_PER_INSERT) {
        await insertLogBatch({ db: tx }, { appServerId, firstSeq: firstSeq + i, lines: lines.slice(i, i + ROWS_PER_INSERT) });
      }
      if (offset !== undefined) await tx.appServer.update({ where: { id: appServerId }, data: { logOffset: BigInt(offset) } });
    });
    seq += lines.length;
    const at = deps.now().toISOString();
    await publishLogLines(deps, appServerId, lines.map((l, i) => ({ seq: firstSeq + i, level: l.level, text: l.text, at })));
  }

  const line = (level: LogLevel) => (text: string) => store([{ level, text: `[ocim] ${text}` }]);
  return {
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    appendPlaybook: (lines, newOffset) => store(lines.map((text) => ({ level: "info" as const, text })), newOffset),
    async close() {},
  };
}
