// express-session store on ioredis (connect-redis 9 speaks node-redis only). Sessions live in
// Redis so every web process sees them; the key expires with the cookie.
import session from "express-session";
import type { Redis } from "ioredis";

export class RedisSessionStore extends session.Store {
  constructor(private readonly redis: Redis, private readonly ttlSeconds: number, private readonly prefix = "ocim:sess:") {
    super();
  }

  override get(sid: string, cb: (err: unknown, data?: session.SessionData | null) => void): void {
    this.redis.get(this.prefix + sid).then((raw) => cb(null, raw ? JSON.parse(raw) : null), cb);
  }

  override set(sid: string, data: session.SessionData, cb?: (err?: unknown) => void): void {
    this.redis.set(this.prefix + sid, JSON.stringify(data), "EX", this.ttlSeconds).then(() => cb?.(), cb);
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.redis.del(this.prefix + sid).then(() => cb?.(), cb);
  }

  override touch(sid: string, _data: session.SessionData, cb?: (err?: unknown) => void): void {
    this.redis.expire(this.prefix + sid, this.ttlSeconds).then(() => cb?.(), cb);
  }
}
