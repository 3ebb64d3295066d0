// express-session store on ioredis (connect-redis 9 speaks node-redis only). Sessions live in
// Redis so every web process sees them; the key expires with the cookie.
import session from "express-session";
import type { Redis } from "ioredis";
import { askRedis } from "../redis.js";

const TOUCH_EVERY_MS = 60_000;
const MAX_TRACKED = 50_000;

export class RedisSessionStore extends session.Store {
  /**
   * @param timeoutMs how long a page waits for Redis before a 503 that says Redis is away (REDIS_TIMEOUT_MS).
   * @param now the clock that decides when a session's expiry is pushed back again (deps.now).
   */
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly timeoutMs: number,
    private readonly now: () => Date,
    private readonly prefix = "ocim:sess:",
  ) {
    super();
  }

  private ask<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
    return askRedis(this.redis, this.timeoutMs, () => work(this.redis));
  }

  override get(sid: string, cb: (err: unknown, data?: session.SessionData | null) => void): void {
    this.ask((r) => r.get(this.prefix + sid)).then((raw) => cb(null, raw ? JSON.parse(raw) : null), cb);
  }

  override set(sid: string, data: session.SessionData, cb?: (err?: unknown) => void): void {
    this.ask((r) => r.set(this.prefix + sid, JSON.stringify(data), "EX", this.ttlSeconds)).then(() => cb?.(), cb);
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.touchedAt.delete(sid);
    this.ask((r) => r.del(this.prefix + sid)).then(() => cb?.(), cb);
  }

  // express-session touches the session after every request that did not change it. Pushing the
  // expiry back once a minute per session is as good for a TTL counted in hours, and spares a Redis
  // round trip on nearly every page (bench/pages). The session may end up to a minute early.
  private readonly touchedAt = new Map<string, number>();

  override touch(sid: string, _data: session.SessionData, cb?: (err?: unknown) => void): void {
    const now = this.now().getTime();
    const last = this.touchedAt.get(sid);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return void cb?.();
    if (this.touchedAt.size >= MAX_TRACKED) this.touchedAt.clear();
    this.touchedAt.set(sid, now);
    this.ask((r) => r.expire(this.prefix + sid, this.ttlSeconds)).then(() => cb?.(), cb);
  }
}
