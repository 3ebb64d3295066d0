// The log of one provisioning run, on the one log writer (src/domain/logs/log-writer.ts): Ocim's
// own lines ("[ocim] …") and the playbook's share the appserver's seq. Playbook lines go to the
// writer with their end offset in the VM's log file, and the writer stores each batch with the
// offset of its last line in one statement, so a worker that dies at any moment leaves both or
// neither: a resumed job re-reads from the stored offset and no line is lost or stored twice
// (DESIGN §5, §7; tests/provisioning-resume.test.ts kills a worker with SIGKILL).
import type { Deps } from "../../deps.js";
import { createLogWriter } from "../logs/log-writer.js";
import type { LogLevel } from "../logs/live-channels.js";
import { playbookLineLevel } from "../logs/playbook-line-level.js";

export interface RunLog {
  /** Ocim's own lines; stored (and published) when the promise resolves, like a status change next to them. */
  info(text: string): Promise<void>;
  warn(text: string): Promise<void>;
  error(text: string): Promise<void>;
  /** Playbook lines with the offset just after each (ends[i] for lines[i]), as drainLog gives them. */
  appendPlaybook(lines: string[], ends: number[]): Promise<void>;
  /** Resolves once every line given so far is stored (and its offset with it). */
  flush(): Promise<void>;
  /** Flushes; the job calls it before it returns. */
  close(): Promise<void>;
}

export function createRunLog(deps: Pick<Deps, "db" | "redis" | "log" | "now" | "metrics">, appServerId: number, secrets: string[]): RunLog {
  const writer = createLogWriter(deps, { appServerId, secrets });
  const line = (level: LogLevel) => async (text: string) => {
    await writer.write(`[ocim] ${text}`, level);
    await writer.flush();
  };
  return {
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
    async appendPlaybook(lines, ends) {
      for (let i = 0; i < lines.length; i++) await writer.write(lines[i]!, playbookLineLevel(lines[i]!), ends[i]);
    },
    async flush() {
      await writer.flush();
    },
    async close() {
      await writer.close();
    },
  };
}
