// Tails the playbook's log file on the VM from the stored byte offset until its exit-code file
// appears and the log is drained. Every wait has a deadline: a silent playbook and a run that is
// too long both end as timeouts; a status change (cancel) ends the tail at once.
// The poll adapts: right after a read that found lines the next one comes MIN_POLL_MS later (a
// line printed on the VM reaches the page fast), and each empty read doubles the wait up to
// pollMs (500 ms), so an idle VM is asked no more often than before. The exit file is looked
// for only when a read found nothing new: a playbook that is still printing has not exited.
import type { Deps } from "../../deps.js";
import { shellQuote } from "../../adapters/ssh/quote.js";
import { drainLog } from "../logs/drain.js";
import type { VmShell } from "./ports.js";
import type { RemotePaths } from "./remote.js";
import type { RunLog } from "./run-log.js";

const MIN_POLL_MS = 20;

export type TailOutcome = { kind: "exited"; exitCode: number } | { kind: "timeout"; reason: string } | { kind: "cancelled" };

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
  const maxWait = input.pollMs ?? 500;
  let wait = Math.min(MIN_POLL_MS, maxWait);
  const source = { readFrom: (from: number, maxBytes: number) => shell.readFrom(paths.log, from, maxBytes) };
  const store = (lines: string[], _end: number, ends: number[]) => log.appendPlaybook(lines, ends);
  for (;;) {
    input.signal?.throwIfAborted();
    const drained = await drainLog(source, { from: offset, onLines: store, maxReads: 8 });
    const gotLines = drained.offset > offset;
    if (gotLines) {
      offset = drained.offset;
      lastLineAt = Date.now();
    }
    if (Date.now() - lastStatusCheck > 1000) {
      lastStatusCheck = Date.now();
      const status = (await deps.db.appServer.findUnique({ where: { id: appServerId }, select: { status: true } }))?.status;
      if (status !== "configuring") return { kind: "cancelled" };
    }
    const exit = gotLines ? null : await shell.exec(`cat ${shellQuote(paths.exit)} 2>/dev/null || true`, { timeoutMs: 30_000 });
    if (exit && exit.stdout.trim() !== "") {
      // The exit file is written after the log is complete: drain the rest, a last line without
      // its newline included, then finish.
      await drainLog(source, { from: offset, onLines: store, final: true });
      // Every line is stored before the status says the playbook has ended.
      await log.flush();
      return { kind: "exited", exitCode: Number.parseInt(exit.stdout.trim(), 10) };
    }
    // The deadline is on the console's clock (deps.now), like statusChangedAt it counts from.
    if (deps.now().getTime() > runDeadline) return { kind: "timeout", reason: `The playbook ran longer than ${deps.config.PLAYBOOK_TIMEOUT_MINUTES} minutes.` };
    if (Date.now() - lastLineAt > silentMs) return { kind: "timeout", reason: `The playbook printed nothing for ${deps.config.PLAYBOOK_LINE_TIMEOUT_MINUTES} minutes.` };
    wait = gotLines ? Math.min(MIN_POLL_MS, maxWait) : Math.min(wait * 2, maxWait);
    await new Promise((r) => setTimeout(r, wait));
  }
}
