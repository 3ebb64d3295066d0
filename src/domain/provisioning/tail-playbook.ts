// Tails the playbook's log file on the VM from the stored byte offset until its exit-code file
// appears and the log is drained. Every wait has a deadline: a silent playbook and a run that is
// too long both end as timeouts; a status change (cancel) ends the tail at once.
import type { Deps } from "../../deps.js";
import { shellQuote } from "../../adapters/ssh/quote.js";
import type { VmShell } from "./ports.js";
import type { RemotePaths } from "./remote.js";
import type { RunLog } from "./run-log.js";

export type TailOutcome = { kind: "exited"; exitCode: number } | { kind: "timeout"; reason: string } | { kind: "cancelled" };

const CHUNK = 1 << 20;

/** Splits bytes into complete lines; returns the lines and how many bytes they used. */
export function completeLines(bytes: Buffer): { lines: string[]; used: number } {
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], used: 0 };
  const text = bytes.subarray(0, end).toString("utf8");
  return { lines: text.split("\n").map((l) => l.replace(/\r$/, "")), used: end + 1 };
}

export async function tailPlaybook(
  deps: Deps,
  input: { appServerId: number; shell: VmShell; paths: RemotePaths; log: RunLog; signal?: AbortSignal; pollMs?: number },
): Promise<TailOutcome> {
  const { shell, paths, log, appServerId } = input;
  const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: appServerId }, select: { logOffset: true, statusChangedAt: true } });
  let offset = Number(row.logOffset);
  const runDeadline = row.statusChangedAt.getTime() + deps.config.PLAYBOOK_TIMEOUT_MINUTES * 60_000;
  const silentMs = deps.config.PLAYBOOK_LINE_TIMEOUT_MINUTES * 60_000;
  let lastLineAt = Date.now();
  let lastStatusCheck = 0;
  for (;;) {
    input.signal?.throwIfAborted();
    const { bytes } = await shell.readFrom(paths.log, offset, CHUNK);
    const { lines, used } = completeLines(bytes);
    if (used > 0) {
      offset += used;
      await log.appendPlaybook(lines, offset);
      lastLineAt = Date.now();
    }
    if (Date.now() - lastStatusCheck > 1000) {
      lastStatusCheck = Date.now();
      const status = (await deps.db.appServer.findUnique({ where: { id: appServerId }, select: { status: true } }))?.status;
      if (status !== "configuring") return { kind: "cancelled" };
    }
    if (bytes.length === CHUNK) continue; // more to read right away
    const exit = await shell.exec(`cat ${shellQuote(paths.exit)} 2>/dev/null || true`, { timeoutMs: 30_000 });
    if (exit.stdout.trim() !== "") {
      // The exit file is written after the log is complete: drain what is left, then finish.
      const rest = await shell.readFrom(paths.log, offset, CHUNK * 64);
      const tail = rest.bytes.length ? completeLines(Buffer.concat([rest.bytes, rest.bytes.at(-1) === 0x0a ? Buffer.alloc(0) : Buffer.from("\n")])) : { lines: [], used: 0 };
      if (tail.lines.length) await log.appendPlaybook(tail.lines, offset + rest.bytes.length);
      return { kind: "exited", exitCode: Number.parseInt(exit.stdout.trim(), 10) };
    }
    if (Date.now() > runDeadline) return { kind: "timeout", reason: `The playbook ran longer than ${deps.config.PLAYBOOK_TIMEOUT_MINUTES} minutes.` };
    if (Date.now() - lastLineAt > silentMs) return { kind: "timeout", reason: `The playbook printed nothing for ${deps.config.PLAYBOOK_LINE_TIMEOUT_MINUTES} minutes.` };
    await new Promise((r) => setTimeout(r, input.pollMs ?? 500));
  }
}
