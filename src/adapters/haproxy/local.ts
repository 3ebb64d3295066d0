// The `local` balancer: a haproxy on this host that Ocim runs itself (local-process.ts). Ocim owns
// the whole haproxy.cfg at configPath (global, defaults, frontend, fragment) and the map at mapPath,
// both inside LOCAL_LB_DIR (local-dir.ts).
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { renderLocalConfig } from "./local-config.js";
import { checkConfig, resolveHaproxyBin } from "./check-config.js";
import { localFileApplyMessage, localFileProblem } from "./local-dir.js";
import { localRuntimePaths, runningMaster, startOrReload, type LocalRuntimePaths } from "./local-process.js";
import type { HaproxyTarget, RenderedFragment, StagedConfig } from "./port.js";

// The map path goes inside a sample expression (`map(<path>,<default>)`) and the socket path on a
// config line: no spaces, commas, quotes or parentheses there.
const SAFE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

export interface LocalBalancer {
  name: string;
  configPath: string;
  mapPath: string;
}

type LocalDeps = { config: Pick<Config, "HAPROXY_BIN" | "HAPROXY_TIMEOUT_SECONDS" | "LB_BIND" | "LB_HTTP_PORT" | "LB_HTTPS_PORT" | "localLbDir">; log: Logger };

/** The config file a local balancer's haproxy runs, for a given map and crt-list path. */
export function localConfigFile(config: LocalDeps["config"], fragment: RenderedFragment, balancer: LocalBalancer, mapPath = balancer.mapPath, crtList?: string): Buffer[] {
  const runtime = localRuntimePaths(balancer.configPath);
  return renderLocalConfig(fragment, {
    mapPath,
    bind: config.LB_BIND,
    port: config.LB_HTTP_PORT,
    statsSocket: runtime.socket,
    tls: { httpsPort: config.LB_HTTPS_PORT, acmeMap: runtime.acmeMap, crtList: crtList ?? runtime.crtList },
  });
}

export function createLocalTarget(deps: LocalDeps, balancer: LocalBalancer): HaproxyTarget {
  for (const [field, value] of [["config path", balancer.configPath], ["map path", balancer.mapPath]] as const) {
    if (!SAFE_PATH_RE.test(value)) {
      throw new AppError("validation", `The ${field} of load balancer ${balancer.name} must be an absolute path of letters, digits, ".", "_", "-" and "/" (got ${JSON.stringify(value)}).`);
    }
  }
  const runtime = localRuntimePaths(balancer.configPath);
  // Every file this target writes or lets haproxy write; checked again before each write.
  const confine = () => {
    for (const file of [balancer.configPath, balancer.mapPath, runtime.pidFile, runtime.socket, runtime.logFile, runtime.acmeMap, runtime.crtList, runtime.certDir]) {
      const problem = localFileProblem(deps.config.localLbDir, file);
      if (problem) throw new AppError("validation", localFileApplyMessage(balancer.name, deps.config.localLbDir, file, problem));
    }
  };
  confine();
  const bin = resolveHaproxyBin(deps.config.HAPROXY_BIN);
  const timeoutMs = deps.config.HAPROXY_TIMEOUT_SECONDS * 1000;
  return {
    async isRunning() {
      return runningMaster(runtime) !== null;
    },
    async stage(fragment): Promise<StagedConfig> {
      confine();
      await mkdir(path.dirname(balancer.configPath), { recursive: true, mode: 0o700 });
      await mkdir(path.dirname(balancer.mapPath), { recursive: true, mode: 0o700 });
      // Beside the live files, so the renames below stay on one file system (atomic).
      const token = randomBytes(6).toString("hex");
      const candidate = { config: `${balancer.configPath}.${token}.tmp`, map: `${balancer.mapPath}.${token}.tmp`, crtList: `${runtime.crtList}.${token}.tmp` };
      const discard = async () => {
        for (const file of Object.values(candidate)) await rm(file, { force: true });
      };
      try {
        await writeDurably(candidate.map, fragment.map);
        await writeCertificates(runtime, fragment, candidate.crtList);
        // Checked as it will run, except that it reads the candidate map and crt-list.
        await writeDurably(candidate.config, localConfigFile(deps.config, fragment, balancer, candidate.map, candidate.crtList));
        const warnings = await checkConfig(bin, [candidate.config], timeoutMs, {
          [candidate.config]: balancer.configPath,
          [candidate.map]: balancer.mapPath,
          [candidate.crtList]: runtime.crtList,
        });
        if (warnings) deps.log.warn({ balancer: balancer.name, warnings }, "lb.check.warnings");
        await writeDurably(candidate.config, localConfigFile(deps.config, fragment, balancer));
      } catch (err) {
        await discard();
        throw err;
      }
      return {
        async commit() {
          confine();
          // Map first: the config that names it must never point at a missing file.
          await rename(candidate.map, balancer.mapPath);
          await rename(candidate.crtList, runtime.crtList);
          await rename(candidate.config, balancer.configPath);
          const how = await startOrReload(bin, runtime, timeoutMs);
          deps.log.info({ balancer: balancer.name, how, certificates: fragment.certificates.length }, "lb.haproxy.loaded");
          await removeStaleCertificates(runtime, fragment);
        },
        discard,
      };
    },
  };
}

/**
 * The certificate files (new names for new content, so the running haproxy's files stay until it
 * reloads), the candidate crt-list naming them, and the ACME challenge map unless it exists (its
 * tokens are added at run time, publish-challenge in local-acme.ts).
 */
async function writeCertificates(runtime: LocalRuntimePaths, fragment: RenderedFragment, crtList: string): Promise<void> {
  await mkdir(runtime.certDir, { recursive: true, mode: 0o700 });
  const lines: string[] = [];
  for (const certificate of fragment.certificates) {
    const file = path.join(runtime.certDir, certificate.name);
    await writeDurably(file, certificate.pem);
    lines.push(file);
  }
  await writeDurably(crtList, Buffer.from(lines.map((line) => `${line}\n`).join("")));
  const acme = await open(runtime.acmeMap, "a", 0o600);
  await acme.close();
}

/** After a reload: the certificate files no longer named (a replaced or removed certificate). */
async function removeStaleCertificates(runtime: LocalRuntimePaths, fragment: RenderedFragment): Promise<void> {
  const current = new Set(fragment.certificates.map((c) => c.name));
  for (const name of await readdir(runtime.certDir)) if (!current.has(name)) await rm(path.join(runtime.certDir, name), { force: true });
}

/** Written and flushed to disk before it is renamed over the live file, so a crash leaves old or new, never half. */
async function writeDurably(file: string, content: Buffer | Buffer[]): Promise<void> {
  const handle = await open(file, "w", 0o600);
  try {
    // writeFile() on a handle writes from the current position: the parts follow each other.
    for (const part of Array.isArray(content) ? content : [content]) await handle.writeFile(part);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
