// A real redis-server under a data directory. No npm package ships one (DESIGN §2).
// It listens on 127.0.0.1 only and asks for a password generated into DATA_DIR/redis_password
// (mode 600): another local OS user can neither read the sessions and jobs nor write them.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, recordServer, runningServerPort, startListening, stopStale, type Child } from "./processes.js";
import { readOrCreateSecret, readSecret } from "./secret-file.js";
import { supervise, type SuperviseOptions } from "./supervise.js";

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
const passwordFile = (dataRoot: string) => path.join(dataRoot, "redis_password");
const urlFor = (port: number, password: string) => `redis://:${password}@127.0.0.1:${port}`;

/** The URL of the Redis another live Ocim process started on this data directory, if any. */
export async function runningRedisUrl(dataRoot: string): Promise<string | null> {
  const port = await runningServerPort(recordFile(dataRoot));
  return port === null ? null : urlFor(port, readSecret(passwordFile(dataRoot)));
}

/** Starts redis-server and keeps it running (restarted if it dies) until its child is stopped. */
export async function startRedis(dataRoot: string, log: (line: string) => void, options: SuperviseOptions = {}): Promise<EmbeddedRedis> {
  const bin = findRedis();
  const dir = path.join(dataRoot, "redis");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700); // its append-only file holds the sessions
  const password = readOrCreateSecret(passwordFile(dataRoot)).value;
  // In a file, not on the command line, where `ps` would show it to every local user.
  const configFile = path.join(dir, "redis.conf");
  writeFileSync(configFile, `requirepass ${password}\n`, { mode: 0o600 });
  chmodSync(configFile, 0o600);
  const pidFile = path.join(dir, "redis.pid");
  const port = await freePort();
  const child = await supervise("redis", async () => {
    await stopStale(pidFile);
    return startListening("redis", bin, [
      configFile, "--port", String(port), "--bind", "127.0.0.1", "--dir", dir,
      "--appendonly", "yes", "--save", "", "--daemonize", "no", "--pidfile", pidFile, "--maxmemory-policy", "noeviction",
    ], log, port, 15_000);
  }, options);
  recordServer(recordFile(dataRoot), port);
  return { url: urlFor(port, password), child };
}
