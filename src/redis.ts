// Redis connections (ioredis) and what a request does while Redis is away. Every client Ocim makes
// gets an error listener: without one, ioredis prints "[ioredis] Unhandled error event" at every
// reconnect attempt (a line every few hundred ms for as long as Redis is down).
import { Redis, type RedisOptions } from "ioredis";
import { AppError } from "./errors.js";
import type { Logger } from "./logger.js";

export const REDIS_DOWN =
  "Redis is not reachable, so Ocim cannot read sessions or queue work. Nothing was changed; try again in a moment, and tell an admin if it persists.";

/** A client that logs once when Redis goes away and once when it is back, not at every retry. */
export function createRedis(url: string, log: Logger, options: RedisOptions = {}): Redis {
  return watchRedis(new Redis(url, options), log, { down: false });
}

// A client and its duplicates share one outage state: one line per outage, not one per connection.
const outages = new WeakMap<Redis, { down: boolean }>();
// Whether a client's connection has closed since it was last "ready" (per client, not shared).
const lost = new WeakMap<Redis, boolean>();

/** The same connection settings on a new client (for subscribers and blocking reads), watched too. */
export function duplicateRedis(redis: Redis, log: Logger): Redis {
  return watchRedis(redis.duplicate(), log, outages.get(redis) ?? { down: false });
}

function watchRedis(redis: Redis, log: Logger, outage: { down: boolean }): Redis {
  outages.set(redis, outage);
  redis.on("close", () => lost.set(redis, true));
  redis.on("error", (err: Error) => {
    if (outage.down) return;
    outage.down = true;
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, "redis.unreachable");
  });
  redis.on("ready", () => {
    lost.set(redis, false);
    if (!outage.down) return;
    outage.down = false;
    log.info("redis.reconnected");
  });
  return redis;
}

/** A lost or refused connection (logged once by the watcher), not a failed command. */
export function isRedisConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH)$/.test(e?.code ?? "") || e?.message === "Connection is closed.";
}

// ioredis keeps retrying the connection, and queues commands meanwhile: in "reconnecting" (between
// attempts) and after a close it is known to be away. Once its connection has closed, Redis stays
// away until the client is "ready" again: an attempt in progress ("connecting", "connect") is not
// Redis being back. (Going by the status alone let a request through in the instant of each retry,
// and a launch was then accepted during an outage.) A Redis that never failed but does not answer
// is caught by askRedis's deadline instead.
const AWAY = new Set(["reconnecting", "close", "end"]);

export function redisAway(redis: Redis): boolean {
  return AWAY.has(redis.status) || (redis.status !== "ready" && lost.get(redis) === true);
}

/**
 * `work` against Redis, or a 503 AppError (REDIS_DOWN) at once when Redis is known to be away and
 * after `timeoutMs` when it does not answer: a request never waits on Redis without a limit.
 */
export async function askRedis<T>(redis: Redis, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  if (redisAway(redis)) throw new AppError("unavailable", REDIS_DOWN);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // setImmediate: after an event loop stall, a reply that arrived meanwhile is read (poll phase)
    // before this refuses; only a Redis that really did not answer in time is reported as away.
    timer = setTimeout(() => setImmediate(() => reject(new AppError("unavailable", REDIS_DOWN))), timeoutMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
