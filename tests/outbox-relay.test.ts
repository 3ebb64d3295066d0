// The transactional outbox of appserver transitions, its relay and the reconciler, with several
// worker processes (two Deps on one database: two pools, two Redis connections).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { waitFor } from "./helpers/wait.js";
import { createDeps, closeDeps, type Deps } from "../src/deps.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { moveAppServer, moveAppServerNow } from "../src/domain/appservers/lifecycle.js";
import { statusChannel } from "../src/domain/logs/live-channels.js";
import { drainOutbox, startOutboxRelay } from "../src/jobs/relay-outbox.js";
import { reconcileAppServers } from "../src/jobs/reconcile-appservers.js";
import { QUEUE } from "../src/jobs/names.js";

const actor = { id: null, login: "tester" };

describe("the outbox relay and the reconciler", () => {
  let a: TestDeps;
  let b: Deps;
  let skewMs = 0;
  const now = () => new Date(Date.now() + skewMs);
  beforeAll(async () => {
    // A sweep too slow to matter within a test: only the commit's NOTIFY can wake the relay.
    a = await createTestDeps({ OUTBOX_SWEEP_SECONDS: "3600" }, { now });
    b = createDeps(a.config, { databaseUrl: a.databaseUrl, redisUrl: a.redisUrl, secretKey: TEST_SECRET_KEY }, { now });
  });
  afterAll(async () => {
    await closeDeps(b);
    await a.close();
  });

  const provisionJobs = async () => (await a.jobs.queue(QUEUE.provisioning).getJobs(["waiting", "delayed", "active"])).map((j) => j.id!);

  it("queues nothing for a transition whose transaction rolls back", async () => {
    const inst = await makeInstance(a);
    const as = await makeAppServer(a, inst.id, { status: "configuring" });
    const before = await a.db.outboxMessage.count();
    await expect(a.db.$transaction(async (tx) => {
      await moveAppServer(tx, a, "succeeded", { appServerId: as.id });
      throw new Error("something after the transition failed");
    })).rejects.toThrow("something after the transition failed");
    expect(await a.db.outboxMessage.count()).toBe(before);
    expect((await a.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).status).toBe("configuring");
    expect(await a.db.auditEvent.count({ where: { subjectType: "AppServer", subjectId: String(as.id) } })).toBe(0);
    await moveAppServerNow(a, "failed", { appServerId: as.id }); // final: not the reconciler's below
  });

  it("wakes on the commit's NOTIFY: a launch's job is queued and its status event reaches Redis", async () => {
    const relay = startOutboxRelay(a);
    const sub = new Redis(a.redisUrl);
    try {
      const inst = await makeInstance(a);
      await drainOutbox(a);
      const as = await launchAppServer(a, { instanceId: inst.id, actor });
      await waitFor("the provisioning job", async () => (await provisionJobs()).includes(`provision-${as.id}`), 10_000, 20);
      const messages: string[] = [];
      sub.on("message", (_channel, message) => messages.push(message));
      await sub.subscribe(statusChannel(as.id));
      await moveAppServerNow(a, "vmRequested", { appServerId: as.id });
      const seen = await waitFor("the status event", async () => messages.map((m) => JSON.parse(m) as { status: string }).find((m) => m.status === "waiting"), 10_000, 20);
      expect(seen).toMatchObject({ appServerId: as.id, instanceId: inst.id, status: "waiting" });
      // Stamped sent in the relay's transaction, which commits just after the publish.
      await waitFor("every row stamped sent", async () => (await a.db.outboxMessage.count({ where: { sentAt: null } })) === 0, 10_000, 20);
    } finally {
      sub.disconnect();
      await relay.close();
    }
  });

  it("with two relays and two reconcilers at once, sends every row once and resumes each stuck appserver once", async () => {
    // 150 launches over 50 instances (at most MAX_PROVISIONING_PER_INSTANCE = 3 provision at once each).
    const instances: number[] = [];
    for (let i = 0; i < 50; i++) instances.push((await makeInstance(a)).id);
    for (const instanceId of instances) for (let i = 0; i < 3; i++) await launchAppServer(a, { instanceId, actor });
    const inst = { id: instances[0]! };
    // Stuck: provisioning statuses with no job, untouched for longer than the reconciler's grace.
    const stuck = [];
    for (let i = 0; i < 6; i++) stuck.push((await makeAppServer(a, inst.id, { status: i % 2 ? "configuring" : "waiting" })).id);
    const rows = await a.db.outboxMessage.count({ where: { sentAt: null } });
    expect(rows).toBeGreaterThanOrEqual(300);

    skewMs += (a.config.RECONCILE_AFTER_SECONDS + 1) * 1000;
    const [, , ra, rb] = await Promise.all([drainOutbox(a), drainOutbox(b), reconcileAppServers(a), reconcileAppServers(b)]);

    const unsentOrResent = await a.db.outboxMessage.findMany({ where: { OR: [{ sentAt: null }, { attempts: { not: 1 } }] } });
    expect(unsentOrResent).toEqual([]);
    // A launched appserver whose row another relay is sending at that moment may be resumed as
    // well (under the same job id): harmless, but never twice.
    const resumed = [...ra.resumed, ...rb.resumed];
    expect(new Set(resumed).size).toBe(resumed.length);
    expect(resumed).toEqual(expect.arrayContaining(stuck));
    const jobs = await provisionJobs();
    const provisioning = await a.db.appServer.findMany({ where: { instanceId: { in: instances } }, select: { id: true } });
    expect(jobs.filter((id) => provisioning.some((p) => id === `provision-${p.id}`)).sort()).toEqual(provisioning.map((p) => `provision-${p.id}`).sort());
  });

  it("leaves alone an appserver whose job is live, or that was touched within the grace period", async () => {
    skewMs = 0;
    const inst = await makeInstance(a);
    const fresh = await makeAppServer(a, inst.id, { status: "configuring" });
    const queued = await makeAppServer(a, inst.id, { status: "waiting" });
    await a.jobs.enqueue("provision-appserver", { appServerId: queued.id }, { jobId: `provision-${queued.id}` });
    expect((await reconcileAppServers(a)).resumed).toEqual([]);
    skewMs += (a.config.RECONCILE_AFTER_SECONDS + 1) * 1000;
    expect((await reconcileAppServers(a)).resumed).toEqual([fresh.id]);
  });
});
