// The outbox relay while Redis is down: each pass gives up fast and leaves its rows unsent; once
// Redis is back the next pass sends every row once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { freePort, startRedisServer, type RedisServer } from "./helpers/redis-server.js";
import { waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { moveAppServerNow } from "../src/domain/appservers/lifecycle.js";
import { statusChannel } from "../src/domain/logs/live-channels.js";
import { drainOutbox } from "../src/jobs/relay-outbox.js";
import { QUEUE } from "../src/jobs/names.js";

const actor = { id: null, login: "tester" };

// With maxRetriesPerRequest null (BullMQ's setting) ioredis queues a command while Redis is away and
// never gives up: a relay pass blocked on a status event's publish until its transaction's 60 s
// timeout and past it. Now each pass gives up within REDIS_TIMEOUT_MS and leaves its rows unsent.
describe("the outbox relay while Redis is down", () => {
  let t: TestDeps;
  let port: number;
  let redis: RedisServer;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    t = await createTestDeps({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_TIMEOUT_MS: "300", OUTBOX_SWEEP_SECONDS: "3600" });
  });
  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  it("leaves the rows unsent, and sends each once when Redis is back", async () => {
    const inst = await makeInstance(t);
    await drainOutbox(t);
    const as = await makeAppServer(t, inst.id, { status: "new" });
    await moveAppServerNow(t, "vmRequested", { appServerId: as.id }); // a status event first
    const launched = await launchAppServer(t, { instanceId: (await makeInstance(t)).id, actor }); // a job and an event
    const unsent = await t.db.outboxMessage.count({ where: { sentAt: null } });
    expect(unsent).toBeGreaterThanOrEqual(3);

    await redis.stop();
    await waitFor("the client to see Redis gone", async () => t.redis.status !== "ready", 10_000, 20);
    // A NOTIFY-driven pass and a sweep while Redis is away: both return, and send nothing.
    expect(await drainOutbox(t)).toBe(0);
    expect(await drainOutbox(t)).toBe(0);
    expect(await t.db.outboxMessage.count({ where: { sentAt: null } })).toBe(unsent);

    redis = await startRedisServer(port);
    await waitFor("the client to reconnect", async () => t.redis.status === "ready", 20_000, 20);
    const sub = new Redis(t.redisUrl);
    const messages: string[] = [];
    try {
      sub.on("message", (_channel, message) => messages.push(message));
      await sub.subscribe(statusChannel(as.id), statusChannel(launched.id));
      // The next pass (the sweep's or a NOTIFY's) sends them.
      expect(await drainOutbox(t)).toBe(unsent);
      expect(await t.db.outboxMessage.count({ where: { sentAt: null } })).toBe(0);
      const jobs = await t.jobs.queue(QUEUE.provisioning).getJobs(["waiting", "delayed", "active"]);
      expect(jobs.map((j) => j.id)).toEqual([`provision-${launched.id}`]);
      // Every event once: none delivered late from a command queued while Redis was away.
      await sub.ping();
      await t.redis.ping();
      const events = messages.map((m) => JSON.parse(m) as { appServerId: number; status: string });
      expect(events.filter((e) => e.appServerId === as.id)).toEqual([expect.objectContaining({ status: "waiting" })]);
      expect(events.filter((e) => e.appServerId === launched.id)).toHaveLength(1);
    } finally {
      sub.disconnect();
    }
  }, 30_000);
});
