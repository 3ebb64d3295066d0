// A Redis lock with a deadline: SET NX PX with a random token; only the owner of the token may
// extend or release it (compare-and-set in Lua), so a holder whose lock expired cannot free another's.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

const EXTEND = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

export interface Lock {
  /** Pushes the deadline ttlMs from now; false when the lock expired and is no longer ours. */
  extend(): Promise<boolean>;
  release(): Promise<void>;
}

export async function tryLock(redis: Redis, key: string, ttlMs: number): Promise<Lock | null> {
  const token = randomBytes(16).toString("hex");
  const ok = await redis.set(key, token, "PX", ttlMs, "NX");
  if (ok !== "OK") return null;
  return {
    async extend() {
      return (await redis.eval(EXTEND, 1, key, token, String(ttlMs))) === 1;
    },
    async release() {
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}

export function loadBalancerLockKey(loadBalancerId: number): string {
  return `ocim:lock:load-balancer:${loadBalancerId}`;
}
