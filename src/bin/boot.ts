// Resolves where PostgreSQL and Redis are: the given URLs, or real servers started under DATA_DIR
// (the single-node default), plus the secret key. Also applies migrations.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Config } from "../config.js";
import type { Connections } from "../deps.js";
import { randomToken } from "../crypto.js";
import type { Logger } from "../logger.js";
import { startPostgres } from "../embedded/postgres.js";
import { startRedis } from "../embedded/redis.js";
import type { Child } from "../embedded/processes.js";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Booted {
  conn: Connections;
  children: Child[];
}

export async function bootConnections(config: Config, log: Logger): Promise<Booted> {
  const children: Child[] = [];
  mkdirSync(config.dataDir, { recursive: true });
  let databaseUrl = config.DATABASE_URL;
  let redisUrl = config.REDIS_URL;
  try {
    if (!databaseUrl) {
      const pg = await startPostgres(config.dataDir, (line) => log.debug({ line }, "postgres.output"));
      children.push(pg.child);
      databaseUrl = pg.url;
      log.info({ dataDir: path.join(config.dataDir, "postgres") }, "embedded.postgres.started");
    }
    if (!redisUrl) {
      const redis = await startRedis(config.dataDir, (line) => log.debug({ line }, "redis.output"));
      children.push(redis.child);
      redisUrl = redis.url;
      log.info({ dataDir: path.join(config.dataDir, "redis") }, "embedded.redis.started");
    }
  } catch (err) {
    await stopChildren(children);
    throw err;
  }
  return { conn: { databaseUrl, redisUrl, secretKey: secretKey(config) }, children };
}

/** SECRET_KEY, or (outside production) one generated once and kept under DATA_DIR. */
function secretKey(config: Config): string {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  const file = path.join(config.dataDir, "secret_key");
  if (!existsSync(file)) writeFileSync(file, randomToken(48), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

export async function stopChildren(children: Child[]): Promise<void> {
  for (const child of [...children].reverse()) await child.stop();
}

export async function migrate(databaseUrl: string): Promise<void> {
  const prisma = path.join(projectRoot, "node_modules", ".bin", "prisma");
  await promisify(execFile)(prisma, ["migrate", "deploy"], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    timeout: 120_000,
  });
}
