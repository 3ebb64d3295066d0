// The `local` balancer: a haproxy on this host that Ocim runs itself (local-process.ts). Ocim owns
// the whole haproxy.cfg at configPath (global, defaults, frontend, fragment) and the map at mapPath,
// both inside LOCAL_LB_DIR (local-dir.ts).
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { renderLocalConfig } from "./local-config.js";
import { checkConfig, resolveHaproxyBin } from "./check-config.js";
import { localFileApplyMessage, localFileProblem } from "./local-dir.js";
import { localRuntimePaths, runningMaster, startOrReload } from "./local-process.js";
import type { HaproxyTarget, RenderedFragment, StagedConfig } from "./port.js";

// The map path goes inside a sample expression (`map(<path>,<default>)`) and the socket path on a
// config line: no spaces, commas, quotes or parentheses there.
const SAFE_PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

export interface LocalBalancer {
  name: string;
  configPath: string;
  mapPath: string;
}

type LocalDeps = { config: Pick<Config, "HAPROXY_BIN" | "HAPROXY_TIMEOUT_SECONDS" | "LB_BIND" | "LB_HTTP_PORT" | "localLbDir">; log: Logger };

/** The config file a local balancer's haproxy runs, for a given map path. */
export function localConfigFile(config: LocalDeps["config"], fragment: RenderedFragment, balancer: LocalBalancer, mapPath = balancer.mapPath): Buffer[] {
  return renderLocalConfig(fragment, {
    mapPath,
    bind: config.LB_BIND,
    port: config.LB_HTTP_PORT,
    statsSocket: localRuntimePaths(balancer.configPath).socket,
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
    for (const file of [balancer.configPath, balancer.mapPath, runtime.pidFile, runtime.socket, runtime.logFile]) {
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
      const candidate = { config: `${balancer.configPath}.${token}.tmp`, map: `${balancer.mapPath}.${token}.tmp` };
      const discard = async () => {
        await rm(candidate.config, { force: true });
        await rm(candidate.map, { force: true });
      };
      try {
        await writeDurably(candidate.map, fragment.map);
        // Checked as it will run, except that it reads the candidate map.
        await writeDurably(candidate.config, localConfigFile(deps.config, fragment, balancer, candidate.map));
        const warnings = await checkConfig(bin, [candidate.config], timeoutMs, {
          [candidate.config]: balancer.configPath,
          [candidate.map]: balancer.mapPath,
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
          await rename(candidate.config, balancer.configPath);
          const how = await startOrReload(bin, runtime, timeoutMs);
          deps.log.info({ balancer: balancer.name, how }, "lb.haproxy.loaded");
        },
        discard,
      };
    },
  };
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
