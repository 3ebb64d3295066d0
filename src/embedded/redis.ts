// A real redis-server under a data directory. No npm package ships one (DESIGN §2).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { freePort, recordServer, runningServerPort, startChild, stopStale, waitForPort, type Child } from "./processes.js";

export interface EmbeddedRedis {
  url: string;
  child: Child;
}

export const REDIS_MISSING =
  "redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server; " +
  "macOS: brew install redis) or set REDIS_URL to a running Redis.";

function findRedis(): string {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"]).toString().trim();
  } catch {
    throw new Error(REDIS_MISSING);
  }
}

const recordFile = (dataRoot: string) => path.join(dataRoot, "redis", "server.json");

/** The URL of the Redis another live Ocim process started on this data directory, if any. */
export async function runningRedisUrl(dataRoot: string): Promise<string | null> {
  const port = await runningServerPort(recordFile(dataRoot));
  return port === null ? null : `redis://127.0.0.1:${port}`;
}

export async function startRedis(dataRoot: string, log: (line: string) => void): Promise<EmbeddedRedis> {
  const bin = findRedis();
  const dir = path.join(dataRoot, "redis");
  mkdirSync(dir, { recursive: true });
  const pidFile = path.join(dir, "redis.pid");
  await stopStale(pidFile);
  const port = await freePort();
  const child = startChild("redis", bin, [
    "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
    "--appendonly", "yes", "--save", "", "--daemonize", "no", "--pidfile", pidFile, "--maxmemory-policy", "noeviction",
  ], log);
  await waitForPort(child, "127.0.0.1", port, 15_000);
  recordServer(recordFile(dataRoot), port);
  return { url: `redis://127.0.0.1:${port}`, child };
}
