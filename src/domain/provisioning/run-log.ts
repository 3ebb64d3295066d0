// The log of one provisioning run: Ocim's own lines and the playbook's, in one sequence per
// appserver. Playbook lines are stored in the same transaction as the byte offset they end at,
// so a worker that dies at any moment leaves either both or neither: a resumed job re-reads from
// the stored offset and no line is lost or stored twice (DESIGN §5, §7).
import type { Deps } from "../../deps.js";
import type { LogLevel } from "../../generated/prisma/enums.ts";
import { publishLogLines, type PublishedLine } from "../logs/publish.js";

export interface RunLog {
  info(text: string): Promise<void>;
  warn(text: string): Promise<void>;
  error(text: string): Promise<void>;
  /** Stores playbook lines and the new byte offset atomically, then publishes them. */
  appendPlaybook(lines: string[], newOffset: number): Promise<void>;
  close(): Promise<void>;
}

const MASK = "••••••";

export function maskSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s && out.includes(s)) out = out.replaceAll(s, MASK);
  return out;
}

export async function createRunLog(deps: Pick<Deps, "db" | "redis">, appServerId: number, secrets: string[]): Promise<RunLog> {
  const last = await deps.db.logEntry.aggregate({ where: { appServerId }, _max: { seq: true } });
  let seq = last._max.seq ?? 0;

  async function store(entries: { level: LogLevel; text: string }[], offset?: number): Promise<void> {
    if (entries.length === 0 && offset === undefined) return;
    const rows = entries.map((e) => ({ appServerId, seq: ++seq, level: e.level, text: maskSecrets(e.text, secrets) }));
    try {
      await deps.db.$transaction(async (tx) => {
        if (rows.length) await tx.logEntry.createMany({ data: rows });
        if (offset !== undefined) await tx.appServer.update({ where: { id: appServerId }, data: { logOffset: BigInt(offset) } });
      });
    } catch (err) {
      seq -= rows.length;
      throw err;
    }
    const published: PublishedLine[] = rows.map((r) => ({ seq: r.seq, level: r.level, text: r.text, at: Date.now() }));
    if (published.length) await publishLogLines(deps, appServerId, published);
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
