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
import { SshError, type ExecResult, type SshClient, type SshSession } from "../ssh/port.js";
import { shellCommand, shellQuote } from "../ssh/quote.js";
import { maskSecrets, trimOutput } from "./check-config.js";
import { checkScript, haproxyProcesses, loadingProcess, type HaproxyProcess } from "./ssh-host.js";
import { backendNames, HaproxyRejected, type HaproxyTarget, type RenderedFragment, type StagedConfig } from "./port.js";

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
  /** Where Ocim's HTTPS frontend binds on the host ("[<address>]:<port>"); empty: no HTTPS. */
  httpsBind: string;
};

/** The files beside the fragment that HTTPS needs: the crt-list, the certificate files, the ACME challenge map. */
export function sshTlsPaths(configPath: string) {
  return { crtList: `${configPath}.crt-list`, certDir: `${configPath}.certs`, acmeMap: `${configPath}.acme.map` };
}

/**
 * Ocim's own HTTPS frontend on a shared host: the operator's frontend keeps plain HTTP, this one
 * terminates TLS for Ocim's domains only (haproxy picks the certificate by SNI) and routes through
 * the same map; a host that is not in the map gets a 404. Only with a certificate: haproxy refuses an
 * ssl bind without one.
 */
function tlsFrontend(balancer: SshBalancer, fragment: RenderedFragment, files: { crtList: string; map: string }): string {
  if (!balancer.httpsBind || fragment.certificates.length === 0) return "";
  const lookup = `req.hdr(host),lower,word(1,:),map(${files.map})`;
  return [
    `frontend ${backendNames(balancer.fragmentName).frontend}s`,
    `  bind ${balancer.httpsBind} ssl crt-list ${files.crtList} alpn http/1.1`,
    `  http-request return status 404 content-type text/plain string "No site is configured for this address." unless { ${lookup} -m found }`,
    `  use_backend %[${lookup}]`,
    "",
  ].join("\n");
}

export type SshDeps = { config: Pick<Config, "LB_SSH_KEY_FILE" | "HAPROXY_TIMEOUT_SECONDS" | "SSH_CONNECT_TIMEOUT_SECONDS">; log: Logger; ssh: SshClient };

const SAFE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

export function createSshTarget(deps: SshDeps, balancer: SshBalancer, pin?: HostKeyPin): HaproxyTarget {
  for (const [field, value] of [["config path", balancer.configPath], ["map path", balancer.mapPath]] as const) {
    if (!SAFE_PATH_RE.test(value)) throw new AppError("validation", `The ${field} of load balancer ${balancer.name} must be an absolute path of letters, digits, ".", "_", "-" and "/".`);
  }
  if (!balancer.host || !balancer.sshUser || !balancer.reloadCommand) {
    throw new AppError("validation", `Load balancer ${balancer.name} needs a host, an SSH user and a reload command.`);
  }
  const timeoutMs = deps.config.HAPROXY_TIMEOUT_SECONDS * 1000;
  const connect = () => connectBalancer(deps, balancer, pin);
  return {
    // Ocim does not run that haproxy; the operator's service manager does.
    async isRunning() {
      return true;
    },
    async stage(fragment: RenderedFragment): Promise<StagedConfig> {
      const session = await connect();
      const token = randomBytes(6).toString("hex");
      const tls = sshTlsPaths(balancer.configPath);
      const withTls = balancer.httpsBind !== "";
      const candidate = { config: `${balancer.configPath}.${token}.tmp`, check: `${balancer.configPath}.${token}.check`, map: `${balancer.mapPath}.${token}.tmp`, crtList: `${tls.crtList}.${token}.tmp` };
      const previous = { config: `${balancer.configPath}.${token}.prev`, map: `${balancer.mapPath}.${token}.prev`, crtList: `${tls.crtList}.${token}.prev` };
      const copyPrefix = `${balancer.configPath}.${token}.main-`;
      const run = (command: string) => session.exec(command, { timeoutMs });
      const discard = async () => {
        const files = [...Object.values(candidate), ...Object.values(previous)].map(shellQuote).join(" ");
        await run(`rm -f ${files} ${shellQuote(copyPrefix)}*`).catch(() => undefined);
      };
      // The candidate fragment is checked reading the candidate map and crt-list (a copy that names them).
      const paths = { configPath: balancer.configPath, mapPath: balancer.mapPath, candidateConfig: withTls ? candidate.check : candidate.config, candidateMap: candidate.map, copyPrefix };
      try {
        const process = await loadingProcess(session, balancer.host, paths, timeoutMs);
        await session.uploadFile(candidate.map, fragment.map, 0o644);
        if (withTls) await uploadCertificates(session, run, tls, fragment, candidate.crtList);
        const live = tlsFrontend(balancer, fragment, { crtList: tls.crtList, map: balancer.mapPath });
        await session.uploadFile(candidate.config, Buffer.concat([fragment.backends, Buffer.from(live)]), 0o600);
        const checked = tlsFrontend(balancer, fragment, { crtList: candidate.crtList, map: candidate.map });
        if (withTls) await session.uploadFile(candidate.check, Buffer.concat([fragment.backends, Buffer.from(checked)]), 0o600);
        const shownAs = { [paths.candidateConfig]: balancer.configPath, [candidate.map]: balancer.mapPath, [candidate.crtList]: tls.crtList };
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
        const crtList = withTls ? ` && ${restoreCommand(previous.crtList, tls.crtList)}` : "";
        const back = await run(`${restoreCommand(previous.map, balancer.mapPath)}${crtList} && ${restoreCommand(previous.config, balancer.configPath)}`);
        const restored = back.code === 0 ? "the previous files are back in place" : `putting the previous files back failed too: ${maskSecrets(back.stderr.trim()).slice(0, 300)}`;
        deps.log.error({ balancer: balancer.name, host: balancer.host, restored: back.code === 0 }, "lb.haproxy.reload_failed");
        throw new AppError("unavailable", `${why}; ${restored}.`);
      };
      return {
        async commit() {
          const before = new Set((await haproxyProcesses(session, balancer.configPath, timeoutMs)).map((p) => p.pid));
          // Hard links keep the live files as they are while the candidates are renamed over them.
          // Map first: the fragment that names its backends must never meet a map without them.
          const tlsSteps = withTls ? [keepCommand(tls.crtList, previous.crtList), shellCommand("mv", "-f", candidate.crtList, tls.crtList)] : [];
          const moved = await run(
            [keepCommand(balancer.mapPath, previous.map), keepCommand(balancer.configPath, previous.config), shellCommand("mv", "-f", candidate.map, balancer.mapPath), ...tlsSteps, shellCommand("mv", "-f", candidate.config, balancer.configPath)].join(" && "),
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
          deps.log.info({ balancer: balancer.name, host: balancer.host, worker: worker?.pid, certificates: fragment.certificates.length }, "lb.haproxy.reloaded_over_ssh");
          if (withTls) await run(staleCertificatesCommand(tls.certDir, balancer.fragmentName, fragment)).catch(() => undefined);
        },
        async discard() {
          await discard();
          await session.close();
        },
      };
    },
  };
}

/** The host key the balancer's host must show (null: none recorded yet), and how a first one is recorded. */
export interface HostKeyPin {
  expected: string | null;
  /** Records the key of a first connection; returns the key another connection recorded meanwhile, else null. */
  record(fingerprint: string): Promise<string | null>;
  /** What the balancer's last error says when the key differs (`detail`: both fingerprints). */
  changedMessage(detail: string): string;
}

/** A session on the balancer's host, as LB_SSH_KEY_FILE's key, refused when the host key is not the pinned one. */
export async function connectBalancer(deps: SshDeps, balancer: SshBalancer, pin?: HostKeyPin): Promise<SshSession> {
  const keyFile = deps.config.LB_SSH_KEY_FILE;
  if (!keyFile) throw new AppError("unavailable", `Load balancer ${balancer.name} is reached over SSH: set LB_SSH_KEY_FILE to the private key Ocim logs in with.`);
  let privateKey: string;
  try {
    privateKey = readFileSync(keyFile, "utf8");
  } catch {
    throw new AppError("unavailable", `The SSH key of the load balancers (LB_SSH_KEY_FILE=${keyFile}) cannot be read.`);
  }
  let session: SshSession;
  try {
    session = await deps.ssh.connect({
      // HAPROXY_TIMEOUT_SECONDS, not SSH_CONNECT_TIMEOUT_SECONDS: that one waits out a VM still booting,
      // while a balancer's host is up or down; waiting minutes for it would hold the periodic queue
      // (lb-sync) and the balancer's lock all that time.
      host: balancer.host, port: balancer.sshPort, username: balancer.sshUser, privateKey, deadlineMs: deps.config.HAPROXY_TIMEOUT_SECONDS * 1000,
      hostKeyFingerprint: pin?.expected ?? undefined,
    });
  } catch (err) {
    if (!(pin && err instanceof SshError && err.reason === "host_key")) throw err;
    deps.log.warn({ balancer: balancer.name, host: balancer.host, expected: pin.expected }, "lb.host_key.changed");
    throw new SshError("host_key", pin.changedMessage(err.message));
  }
  if (pin && !pin.expected) {
    const other = await pin.record(session.hostKeyFingerprint);
    if (other !== null && other !== session.hostKeyFingerprint) {
      await session.close();
      throw new SshError("host_key", pin.changedMessage(`The host key of ${balancer.host}:${balancer.sshPort} is ${session.hostKeyFingerprint}, not the expected ${other}.`));
    }
  }
  return session;
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

/**
 * The certificate files (chain then key, mode 600, named by a digest of their content so the running
 * haproxy's files stay until it reloads), the candidate crt-list naming them, and the challenge map
 * the backends read (created empty once; its tokens are added at run time, ssh-acme.ts).
 */
async function uploadCertificates(session: SshSession, run: (command: string) => Promise<ExecResult>, tls: ReturnType<typeof sshTlsPaths>, fragment: RenderedFragment, crtList: string): Promise<void> {
  const made = await run(`umask 077 && mkdir -p ${shellQuote(tls.certDir)} && { [ -e ${shellQuote(tls.acmeMap)} ] || : > ${shellQuote(tls.acmeMap)}; }`);
  if (made.code !== 0) throw new AppError("unavailable", `Creating ${tls.certDir} failed: ${maskSecrets(made.stderr.trim()).slice(0, 300)}`);
  const lines: string[] = [];
  for (const certificate of fragment.certificates) {
    const file = `${tls.certDir}/${certificate.name}`;
    await session.uploadFile(file, certificate.pem, 0o600);
    lines.push(`${file}\n`);
  }
  await session.uploadFile(crtList, lines.join(""), 0o600);
}

/** After a reload: removes this balancer's certificate files that the crt-list no longer names. */
function staleCertificatesCommand(certDir: string, fragmentName: string, fragment: RenderedFragment): string {
  const keep = fragment.certificates.map((c) => `! -name ${shellQuote(c.name)}`).join(" ");
  return `find ${shellQuote(certDir)} -maxdepth 1 -type f -name ${shellQuote(`${fragmentName}-inst-*.pem`)} ${keep} -delete`;
}
