// The `ssh` balancer: a haproxy on another host that its operator runs. Ocim owns two files there,
// the backends fragment (configPath, loaded by haproxy with an extra -f) and the map (mapPath), which
// the operator's frontend uses (docs/load-balancer.md). Apply = upload candidates over SFTP, check
// them with `haproxy -c` and the running haproxy's own command line (ssh-host.ts), rename them over
// the live files keeping the previous ones, run the reload command and wait for a new haproxy process;
// a reload that fails or does not take puts the previous files back, so the next restart of the host
// starts on a configuration that works.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { ExecResult, SshClient, SshSession } from "../ssh/port.js";
import { shellCommand, shellQuote } from "../ssh/quote.js";
import { maskSecrets, trimOutput } from "./check-config.js";
import { checkScript, haproxyProcesses, loadingProcess, type HaproxyProcess } from "./ssh-host.js";
import { HaproxyRejected, type HaproxyTarget, type RenderedFragment, type StagedConfig } from "./port.js";

/** A load balancer of kind `ssh` (validated by the domain's validate-load-balancer.ts). A type, not an
 *  interface: the domain keeps it as JSON in audit rows, which needs the implicit index signature. */
export type SshBalancer = {
  name: string;
  host: string;
  sshUser: string;
  sshPort: number;
  configPath: string;
  mapPath: string;
  reloadCommand: string;
  fragmentName: string;
};

type SshDeps = { config: Pick<Config, "LB_SSH_KEY_FILE" | "HAPROXY_TIMEOUT_SECONDS" | "SSH_CONNECT_TIMEOUT_SECONDS">; log: Logger; ssh: SshClient };

const SAFE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

export function createSshTarget(deps: SshDeps, balancer: SshBalancer): HaproxyTarget {
  for (const [field, value] of [["config path", balancer.configPath], ["map path", balancer.mapPath]] as const) {
    if (!SAFE_PATH_RE.test(value)) throw new AppError("validation", `The ${field} of load balancer ${balancer.name} must be an absolute path of letters, digits, ".", "_", "-" and "/".`);
  }
  if (!balancer.host || !balancer.sshUser || !balancer.reloadCommand) {
    throw new AppError("validation", `Load balancer ${balancer.name} needs a host, an SSH user and a reload command.`);
  }
  if (!deps.config.LB_SSH_KEY_FILE) {
    throw new AppError("unavailable", `Load balancer ${balancer.name} is reached over SSH: set LB_SSH_KEY_FILE to the private key Ocim logs in with.`);
  }
  const keyFile = deps.config.LB_SSH_KEY_FILE;
  const timeoutMs = deps.config.HAPROXY_TIMEOUT_SECONDS * 1000;
  const connect = async (): Promise<SshSession> => {
    let privateKey: string;
    try {
      privateKey = readFileSync(keyFile, "utf8");
    } catch {
      throw new AppError("unavailable", `The SSH key of the load balancers (LB_SSH_KEY_FILE=${keyFile}) cannot be read.`);
    }
    return deps.ssh.connect({ host: balancer.host, port: balancer.sshPort, username: balancer.sshUser, privateKey, deadlineMs: deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000 });
  };
  return {
    // Ocim does not run that haproxy; the operator's service manager does.
    async isRunning() {
      return true;
    },
    async stage(fragment: RenderedFragment): Promise<StagedConfig> {
      const session = await connect();
      const token = randomBytes(6).toString("hex");
      const candidate = { config: `${balancer.configPath}.${token}.tmp`, map: `${balancer.mapPath}.${token}.tmp` };
      const previous = { config: `${balancer.configPath}.${token}.prev`, map: `${balancer.mapPath}.${token}.prev` };
      const copyPrefix = `${balancer.configPath}.${token}.main-`;
      const run = (command: string) => session.exec(command, { timeoutMs });
      const discard = async () => {
        const files = [candidate.config, candidate.map, previous.config, previous.map].map(shellQuote).join(" ");
        await run(`rm -f ${files} ${shellQuote(copyPrefix)}*`).catch(() => undefined);
      };
      const paths = { configPath: balancer.configPath, mapPath: balancer.mapPath, candidateConfig: candidate.config, candidateMap: candidate.map, copyPrefix };
      try {
        const process = await loadingProcess(session, balancer.host, paths, timeoutMs);
        await session.uploadFile(candidate.map, fragment.map, 0o644);
        await session.uploadFile(candidate.config, fragment.backends, 0o600);
        const shownAs = { [candidate.config]: balancer.configPath, [candidate.map]: balancer.mapPath };
        const warnings = judgeCheck(balancer, await run(checkScript(process, paths)), shownAs);
        if (warnings) deps.log.warn({ balancer: balancer.name, host: balancer.host, warnings }, "lb.check.warnings");
      } catch (err) {
        await discard();
        await session.close();
        throw err;
      }
      // Puts the files of the version haproxy still runs back in place, so its next restart does not
      // fail on (or serve) a version that never took.
      const restore = async (why: string): Promise<never> => {
        const back = await run(`${restoreCommand(previous.map, balancer.mapPath)} && ${restoreCommand(previous.config, balancer.configPath)}`);
        const restored = back.code === 0 ? "the previous files are back in place" : `putting the previous files back failed too: ${maskSecrets(back.stderr.trim()).slice(0, 300)}`;
        deps.log.error({ balancer: balancer.name, host: balancer.host, restored: back.code === 0 }, "lb.haproxy.reload_failed");
        throw new AppError("unavailable", `${why}; ${restored}.`);
      };
      return {
        async commit() {
          const before = new Set((await haproxyProcesses(session, balancer.configPath, timeoutMs)).map((p) => p.pid));
          // Hard links keep the live files as they are while the candidates are renamed over them.
          // Map first: the fragment that names its backends must never meet a map without them.
          const moved = await run(
            [keepCommand(balancer.mapPath, previous.map), keepCommand(balancer.configPath, previous.config), shellCommand("mv", "-f", candidate.map, balancer.mapPath), shellCommand("mv", "-f", candidate.config, balancer.configPath)].join(" && "),
          );
          if (moved.code !== 0) {
            await restore(`Replacing the files on ${balancer.host} failed: ${maskSecrets(moved.stderr.trim()).slice(0, 300)}`);
          }
          const reload = await run(balancer.reloadCommand);
          if (reload.code !== 0) {
            await restore(`The reload command on ${balancer.host} failed (exit ${reload.code}): ${maskSecrets(`${reload.stderr}${reload.stdout}`.trim()).slice(0, 500)}`);
          }
          const worker = await newProcess(session, balancer.configPath, before, timeoutMs);
          if (!worker) {
            await restore(`The reload on ${balancer.host} did not take: the reload command succeeded, but no new haproxy process loading ${balancer.configPath} appeared within ${timeoutMs / 1000} s (haproxy keeps running the previous configuration; its log says why)`);
          }
          deps.log.info({ balancer: balancer.name, host: balancer.host, worker: worker?.pid }, "lb.haproxy.reloaded_over_ssh");
        },
        async discard() {
          await discard();
          await session.close();
        },
      };
    },
  };
}

/** haproxy's warnings about the candidate; throws HaproxyRejected when it refuses it, or would run Ocim's backends outside HTTP mode. */
function judgeCheck(balancer: SshBalancer, check: ExecResult, shownAs: Record<string, string>): string {
  const output = `${check.stdout}\n${check.stderr}`;
  if (check.code !== 0) throw new HaproxyRejected(trimOutput(output, shownAs) || `haproxy -c failed on ${balancer.host} (exit code ${check.code}).`);
  const warnings = trimOutput(output, shownAs, "[WARNING]");
  // haproxy only warns when the backends inherit a `defaults` that is not `mode http`, and then
  // drops their cookies, basic auth and HTTP checks: every site would answer, wrongly.
  const notHttp = warnings.split("\n").filter((line) => line.includes(`'${balancer.fragmentName}-`) && /HTTP mode|mode http/i.test(line));
  if (notHttp.length) {
    throw new HaproxyRejected(`Ocim's backends inherit the last defaults section before ${balancer.configPath} on ${balancer.host}, and it is not "mode http": ${notHttp.join("\n")}`);
  }
  return warnings;
}

/** Links the live file to `kept` (nothing to keep on the first apply). */
function keepCommand(live: string, kept: string): string {
  return `{ [ ! -e ${shellQuote(live)} ] || ln -f ${shellQuote(live)} ${shellQuote(kept)}; }`;
}

/** Puts `kept` back over the live file; without one (the first apply), removes the new file. */
function restoreCommand(kept: string, live: string): string {
  return `if [ -e ${shellQuote(kept)} ]; then mv -f ${shellQuote(kept)} ${shellQuote(live)}; else rm -f ${shellQuote(live)}; fi`;
}

const POLL_MS = 100;

/**
 * A haproxy process loading the fragment that was not there before the reload: the new worker of a
 * master-worker haproxy (the master keeps its pid and keeps the old workers when the new
 * configuration fails to load), or the new process of one reloaded with -sf. Null at the deadline.
 */
async function newProcess(session: SshSession, configPath: string, before: Set<number>, timeoutMs: number): Promise<HaproxyProcess | null> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const fresh = (await haproxyProcesses(session, configPath, timeoutMs)).find((p) => !before.has(p.pid));
    if (fresh) return fresh;
    if (Date.now() >= until) return null;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
