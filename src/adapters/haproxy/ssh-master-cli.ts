// haproxy's master CLI on an `ssh` balancer's host (HAProxy 2.6 management guide, "9.4. Master CLI"):
// the socket given with -S on the master's command line (Debian's unit passes
// `-S /run/haproxy-master.sock`). Ocim reaches it with socat on the host, as docs/load-balancer.md
// asks the operator to install. `@1 <command>` sends a command to the current worker (runtime API:
// `add map` / `del map` of ACME tokens, no reload); `show proc` lists the master with its reload
// counters ("<n> [failed: <m>]") and the current workers.
import { AppError } from "../../errors.js";
import type { SshSession } from "../ssh/port.js";
import { shellQuote } from "../ssh/quote.js";
import type { HaproxyProcess } from "./ssh-host.js";

/** The master CLI socket of a haproxy command line (`-S <path>[,<bind options>]`), or null without one. */
export function masterSocketOf(process: HaproxyProcess): string | null {
  const at = process.argv.indexOf("-S");
  const value = at >= 0 ? process.argv[at + 1] : undefined;
  return value ? value.split(",")[0]! : null;
}

/** Sends one line to the master CLI and returns its answer; throws a message an operator can act on. */
export async function masterCommand(session: SshSession, host: string, socket: string, line: string, timeoutMs: number): Promise<string> {
  const result = await session.exec(`printf '%s\\n' ${shellQuote(line)} | socat -t 5 stdio ${shellQuote(`UNIX-CONNECT:${socket}`)}`, { timeoutMs });
  if (result.code === 127) throw new AppError("unavailable", `socat is not installed on ${host}: Ocim talks to haproxy's master CLI (${socket}) with it.`);
  if (result.code !== 0) throw new AppError("unavailable", `haproxy's master CLI on ${host} (${socket}) did not answer: ${result.stderr.trim().slice(0, 300)}`);
  return result.stdout;
}

export interface ProcStatus {
  masterPid: number;
  reloads: number;
  failed: number;
  workers: number[];
}

/**
 * `show proc`, as haproxy 2.6.12 prints it (measured):
 *   #<PID>          <type>          <reloads>       <uptime>        <version>
 *   24822           master          3 [failed: 1]   0d00h00m08s     2.6.12-1+deb12u4
 *   # workers
 *   25223           worker          1               0d00h00m03s     2.6.12-1+deb12u4
 *   # old workers …
 * The workers section lists the current workers; the failed count grows when a reload did not load.
 */
export function parseShowProc(text: string): ProcStatus | null {
  const master = /^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/m.exec(text);
  if (!master) return null;
  const workersPart = text.split(/^# workers$/m)[1]?.split(/^# /m)[0] ?? "";
  const workers = [...workersPart.matchAll(/^(\d+)\s+worker\b/gm)].map((m) => Number(m[1]));
  return { masterPid: Number(master[1]), reloads: Number(master[2]), failed: Number(master[3]), workers };
}
