// The `ssh` balancer: a haproxy on another host that its operator runs. Ocim owns two files there,
// the backends fragment (configPath, loaded by haproxy with an extra -f) and the map (mapPath), which
// the operator's frontend uses (docs/load-balancer.md). Apply = upload candidates over SFTP, check
// them with `haproxy -c` on that host, rename them over the live files, run the reload command.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import type { SshClient, SshSession } from "../ssh/port.js";
import { shellCommand, shellQuote } from "../ssh/quote.js";
import { maskSecrets, trimOutput } from "./check-config.js";
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
};

type SshDeps = { config: Pick<Config, "LB_SSH_KEY_FILE" | "HAPROXY_TIMEOUT_SECONDS" | "SSH_CONNECT_TIMEOUT_SECONDS">; log: Logger; ssh: SshClient };

const SAFE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

/** What `haproxy -c` reads besides the fragment: a frontend that uses the candidate map. */
function checkWrapper(mapPath: string, maintenance: string): string {
  return [
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 30s",
    "  timeout server 30s",
    "frontend ocim-check",
    // Never bound: haproxy -c only parses.
    "  bind 127.0.0.1:1",
    `  use_backend %[req.hdr(host),lower,word(1,:),map(${mapPath},${maintenance})]`,
    "",
  ].join("\n");
}

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
      const candidate = { config: `${balancer.configPath}.${token}.tmp`, map: `${balancer.mapPath}.${token}.tmp`, wrapper: `${balancer.configPath}.${token}.check.cfg` };
      const discard = async () => {
        await session.exec(`rm -f ${shellQuote(candidate.config)} ${shellQuote(candidate.map)} ${shellQuote(candidate.wrapper)}`, { timeoutMs }).catch(() => undefined);
      };
      try {
        await session.uploadFile(candidate.map, fragment.map, 0o644);
        await session.uploadFile(candidate.config, fragment.backends, 0o600);
        await session.uploadFile(candidate.wrapper, checkWrapper(candidate.map, backendNames(balancer.fragmentName).maintenance), 0o600);
        const check = await session.exec(`haproxy=$(command -v haproxy || echo /usr/sbin/haproxy); "$haproxy" -c -f ${shellQuote(candidate.wrapper)} -f ${shellQuote(candidate.config)}`, { timeoutMs });
        if (check.code !== 0) {
          const shownAs = { [candidate.config]: balancer.configPath, [candidate.map]: balancer.mapPath };
          throw new HaproxyRejected(trimOutput(`${check.stdout}\n${check.stderr}`, shownAs) || `haproxy -c failed on ${balancer.host} (exit code ${check.code}).`);
        }
      } catch (err) {
        await discard();
        await session.close();
        throw err;
      }
      return {
        async commit() {
          // Map first: the fragment that names its backends must never meet a map without them.
          const moved = await session.exec(`${shellCommand("mv", "-f", candidate.map, balancer.mapPath)} && ${shellCommand("mv", "-f", candidate.config, balancer.configPath)}`, { timeoutMs });
          if (moved.code !== 0) throw new AppError("unavailable", `Replacing the files on ${balancer.host} failed: ${maskSecrets(moved.stderr.trim())}`);
          const reload = await session.exec(balancer.reloadCommand, { timeoutMs });
          if (reload.code !== 0) {
            throw new AppError("unavailable", `The reload command on ${balancer.host} failed (exit ${reload.code}): ${maskSecrets(`${reload.stderr}${reload.stdout}`.trim()).slice(0, 500)}`);
          }
          deps.log.info({ balancer: balancer.name, host: balancer.host }, "lb.haproxy.reloaded_over_ssh");
        },
        async discard() {
          await discard();
          await session.close();
        },
      };
    },
  };
}
