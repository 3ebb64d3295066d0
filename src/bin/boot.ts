// Resolves where PostgreSQL and Redis are: the given URLs, or real servers started under DATA_DIR
// (the single-node default), plus the secret key. Also applies migrations.
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError, type Config } from "../config.js";
import type { Connections } from "../deps.js";
import type { Logger } from "../logger.js";
import { runningPostgresUrl, startPostgres } from "../embedded/postgres.js";
import { runningRedisUrl, startRedis } from "../embedded/redis.js";
import type { Child } from "../embedded/processes.js";
import type { SuperviseOptions } from "../embedded/supervise.js";
import { readOrCreateSecret } from "../embedded/secret-file.js";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Booted {
  conn: Connections;
  children: Child[];
}

type Server = { url: string; child: Child | null };

/**
 * The configured URL, or the embedded server under DATA_DIR: the one a live Ocim process
 * (`npm start`) already runs there, else a new one (which the caller then owns and stops).
 */
async function bootServer(
  name: "postgres" | "redis",
  config: Config,
  log: Logger,
  configured: string | undefined,
  running: (dataRoot: string) => Promise<string | null>,
  start: (dataRoot: string, output: (line: string) => void, options: SuperviseOptions) => Promise<{ url: string; child: Child }>,
): Promise<Server> {
  if (configured) return { url: configured, child: null };
  const dataDir = path.join(config.dataDir, name);
  const url = await running(config.dataDir);
  if (url) {
    log.info({ dataDir }, `embedded.${name}.attached`);
    return { url, child: null };
  }
  // Restarted if it dies, and the log says so (embedded.<name>.exited, .restarted).
  const started = await start(config.dataDir, (line) => log.debug({ line }, `${name}.output`), { log });
  log.info({ dataDir }, `embedded.${name}.started`);
  return started;
}

export function bootDatabase(config: Config, log: Logger): Promise<Server> {
  return bootServer("postgres", config, log, config.DATABASE_URL, runningPostgresUrl, startPostgres);
}

/** The connections; DATA_DIR exists already (each entry point makes it once, first: ensureDataDir). */
export async function bootConnections(config: Config, log: Logger): Promise<Booted> {
  const children: Child[] = [];
  try {
    const db = await bootDatabase(config, log);
    if (db.child) children.push(db.child);
    const redis = await bootServer("redis", config, log, config.REDIS_URL, runningRedisUrl, startRedis);
    if (redis.child) children.push(redis.child);
    return { conn: { databaseUrl: db.url, redisUrl: redis.url, secretKey: secretKey(config) }, children };
  } catch (err) {
    await stopChildren(children);
    throw err;
  }
}

/** Creates DATA_DIR if needed; a path that cannot be one stops the boot with a message naming the setting. */
export function ensureDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    const why = code === "EEXIST" || code === "ENOTDIR" ? "a file is in the way (it must be a directory, or a path where one can be made)"
      : code === "EACCES" || code === "EPERM" ? "permission denied (cannot create it)"
      : message;
    throw new ConfigError([`DATA_DIR ${dataDir}: ${why}`]);
  }
}

/** SECRET_KEY, or (outside production) one generated once and kept under DATA_DIR. */
export function secretKey(config: Config): string {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  return readOrCreateSecret(path.join(config.dataDir, "secret_key"), 48).value;
}

export async function stopChildren(children: Child[]): Promise<void> {
  for (const child of [...children].reverse()) await child.stop();
}

export async function migrate(databaseUrl: string): Promise<void> {
  const prisma = path.join(projectRoot, "node_modules", ".bin", "prisma");
  try {
    await promisify(execFile)(prisma, ["migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      timeout: 120_000,
    });
  } catch (err) {
    // prisma's reason ("Error: Can't reach database server at `127.0.0.1:1`"), not execFile's
    // "Command failed: …" followed by everything prisma printed.
    const reason = /^Error: (.+)$/m.exec((err as { stderr?: string }).stderr ?? "")?.[1];
    throw new Error(`The database migrations could not be applied: ${reason ?? (err as Error).message}`);
  }
}
