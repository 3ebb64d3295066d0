// Composition root: builds the real adapters from settings. Tests build Deps the same way,
// pointing the URLs at real PostgreSQL/Redis and at in-test HTTP servers for GitHub.
import type { Redis } from "ioredis";
import type { Config } from "./config.js";
import { createSecrets, type Secrets } from "./crypto.js";
import { createDb, dbOptions, type Db } from "./db.js";
import { createGithubRest } from "./adapters/github/rest.js";
import type { GithubApi } from "./adapters/github/port.js";
import { createLogger, type Logger } from "./logger.js";
import { createJobs, type Jobs } from "./jobs/queues.js";
import { createRedis } from "./redis.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createNotifySender } from "./adapters/notify/sender.js";
import type { NotifySender } from "./adapters/notify/port.js";
import { readOsRelease, type OsRelease } from "./adapters/provider/local-host-os.js";

export interface Deps {
  config: Config;
  db: Db;
  redis: Redis;
  log: Logger;
  secrets: Secrets;
  github: GithubApi;
  jobs: Jobs;
  now: () => Date;
  metrics: Metrics;
  /** Email (SMTP_URL) and webhooks, for notifications. */
  notify: NotifySender;
  /** This host's OS, which the local provider's VMs run (null: unknown). Tests give one. */
  hostOs: OsRelease | null;
}

export interface Connections {
  databaseUrl: string;
  redisUrl: string;
  secretKey: string;
}

export function createDeps(config: Config, conn: Connections, overrides: Partial<Deps> = {}): Deps {
  const log = overrides.log ?? createLogger(config.LOG_LEVEL);
  // maxRetriesPerRequest null: BullMQ's workers wait out an outage on this connection; requests
  // do not (askRedis in src/redis.ts).
  const redis = overrides.redis ?? createRedis(conn.redisUrl, log, { maxRetriesPerRequest: null });
  const now = overrides.now ?? (() => new Date());
  return {
    config,
    db: createDb(conn.databaseUrl, dbOptions(config, 10, log)),
    redis,
    jobs: createJobs(redis, config.QUEUE_PREFIX, config.REDIS_TIMEOUT_MS),
    log,
    secrets: createSecrets(conn.secretKey, config.SECRET_KEY_PREVIOUS ? [config.SECRET_KEY_PREVIOUS] : []),
    github: createGithubRest({ apiUrl: config.GITHUB_API_URL, token: config.GITHUB_TOKEN, now }),
    now,
    metrics: createMetrics(),
    notify: createNotifySender(config),
    hostOs: readOsRelease(),
    ...overrides,
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.jobs.close();
  await deps.db.$disconnect();
  deps.redis.disconnect();
}
