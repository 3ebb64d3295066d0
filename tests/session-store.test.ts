// The session store pushes a session's expiry back at most once a minute (it saves a Redis round
// trip on nearly every page); the minute is the injected clock's, moved here, not waited for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { RedisSessionStore } from "../src/web/session-store.js";

describe("the session store", () => {
  let deps: TestDeps;
  let clock = Date.now();
  const prefix = `ocimtest:sess:${process.pid}:`;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(() => deps.close());

  it("pushes the expiry back once a minute of the clock, however often a page touches it", async () => {
    const store = new RedisSessionStore(deps.redis, 3600, 1000, () => new Date(clock), prefix);
    const data = { cookie: { originalMaxAge: 3_600_000 } } as never;
    const touch = () => new Promise<void>((resolve, reject) => store.touch("s1", data, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => store.set("s1", data, (err) => (err ? reject(err) : resolve())));
    const shorten = () => deps.redis.expire(`${prefix}s1`, 100); // stands for time gone by
    await touch();
    await shorten();
    clock += 59_000;
    await touch();
    expect(await deps.redis.ttl(`${prefix}s1`)).toBeLessThanOrEqual(100); // within the minute: not pushed back
    clock += 1000;
    await touch();
    expect(await deps.redis.ttl(`${prefix}s1`)).toBeGreaterThan(3000);
    await deps.redis.del(`${prefix}s1`);
  });
});
