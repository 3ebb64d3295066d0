// haproxy's master CLI on an `ssh` balancer's host (HAProxy 2.6 management guide, "9.4. Master CLI"):
// the socket given with -S on the master's command line (Debian's unit passes
// `-S /run/haproxy-master.sock`). Ocim reaches it with socat on the host, as docs/load-balancer.md
// asks the operator to install. `@1 <command>` sends a command to the current worker (runtime API:
// `add map` / `del map` of ACME tokens, no reload).
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
