// Composition root: builds the real adapters from settings. Tests build Deps the same way,
// pointing the URLs at real PostgreSQL/Redis and at in-test HTTP servers for GitHub.
import { Redis } from "ioredis";
import type { Config } from "./config.js";
import { createSecrets, type Secrets } from "./crypto.js";
import { createDb, type Db } from "./db.js";
import { createGithubRest } from "./adapters/github/rest.js";
import type { GithubApi } from "./adapters/github/port.js";
import { createLogger, type Logger } from "./logger.js";

export interface Deps {
  config: Config;
  db: Db;
  redis: Redis;
  log: Logger;
  secrets: Secrets;
  github: GithubApi;
  now: () => Date;
}

export interface Connections {
  databaseUrl: string;
  redisUrl: string;
  secretKey: string;
}

export function createDeps(config: Config, conn: Connections, overrides: Partial<Deps> = {}): Deps {
  return {
    config,
    db: createDb(conn.databaseUrl),
    redis: new Redis(conn.redisUrl, { maxRetriesPerRequest: null }),
    log: createLogger(config.LOG_LEVEL),
    secrets: createSecrets(conn.secretKey),
    github: createGithubRest(config.GITHUB_API_URL),
    now: () => new Date(),
    ...overrides,
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.db.$disconnect();
  deps.redis.disconnect();
}
