// ACME HTTP-01 answers on an `ssh` balancer with HTTPS: its backends answer a token found in the
// challenge map beside the fragment (render-config.ts), which the operator's frontend reaches through
// Ocim's map. A token goes into the running haproxy through its master CLI (`@1 add map`, no reload)
// and into the file, so a reload in between keeps it.
import { AppError } from "../../errors.js";
import type { SshSession } from "../ssh/port.js";
import { shellQuote } from "../ssh/quote.js";
import { CHALLENGE_RE, serially, type ChallengeMap } from "./local-acme.js";
import { connectBalancer, sshTlsPaths, type HostKeyPin, type SshBalancer, type SshDeps } from "./ssh.js";
import { loadingProcess } from "./ssh-host.js";
import { masterCommand, masterSocketOf } from "./ssh-master-cli.js";

export function sshChallengeMap(deps: SshDeps, balancer: SshBalancer, pin?: HostKeyPin): ChallengeMap & { close(): Promise<void> } {
  const { acmeMap } = sshTlsPaths(balancer.configPath);
  const timeoutMs = deps.config.HAPROXY_TIMEOUT_SECONDS * 1000;
  // One session and one look at the master for the whole order (its challenges come together).
  let opened: Promise<{ session: SshSession; socket: string }> | null = null;
  const open = () => (opened ??= (async () => {
    const session = await connectBalancer(deps, balancer, pin);
    const master = await loadingProcess(session, balancer.host, balancer, timeoutMs);
    const socket = masterSocketOf(master);
    if (!socket) {
      await session.close();
      throw new AppError("unavailable", `The haproxy on ${balancer.host} has no master CLI: add "-S /run/haproxy-master.sock" to its command line (and restart it once), so Ocim can answer ACME challenges without a reload.`);
    }
    return { session, socket };
  })());
  const runtime = async (line: string) => {
    const { session, socket } = await open();
    return (await masterCommand(session, balancer.host, socket, line, timeoutMs)).trim();
  };
  const exec = async (command: string) => {
    const { session } = await open();
    const result = await session.exec(command, { timeoutMs });
    if (result.code !== 0) throw new AppError("unavailable", `Writing the ACME challenge map on ${balancer.host} failed: ${result.stderr.trim().slice(0, 300)}`);
  };
  const serial = serially();
  return {
    publish: (token, keyAuthorization) => serial(async () => {
      if (!CHALLENGE_RE.test(token) || !CHALLENGE_RE.test(keyAuthorization)) throw new AppError("validation", "The ACME server sent a malformed challenge token.");
      await exec(`umask 077 && printf '%s %s\\n' ${token} ${keyAuthorization} >> ${shellQuote(acmeMap)}`);
      const answer = await runtime(`@1 add map ${acmeMap} ${token} ${keyAuthorization}`);
      if (answer !== "") throw new AppError("unavailable", `HAProxy on ${balancer.host} refused a challenge token: ${answer}`);
    }),
    remove: (token) => serial(async () => {
      if (!CHALLENGE_RE.test(token)) return;
      const tmp = `${acmeMap}.${token.slice(0, 16)}.tmp`;
      await exec(`umask 077 && { grep -v ${shellQuote(`^${token} `)} ${shellQuote(acmeMap)} > ${shellQuote(tmp)}; mv -f ${shellQuote(tmp)} ${shellQuote(acmeMap)}; }`);
      // Cleanup: a token already gone (haproxy reloaded from the file meanwhile) is no failure.
      await runtime(`@1 del map ${acmeMap} ${token}`).catch(() => undefined);
    }),
    async close() {
      const current = opened;
      opened = null;
      if (current) await (await current.catch(() => null))?.session.close();
    },
  };
}
