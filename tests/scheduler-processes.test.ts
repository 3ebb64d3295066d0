// Two scheduler processes (the real `src/bin/scheduler.ts`) firing the same schedule make one job
// per slot: the job id names the minute it is due, and BullMQ keeps the first add.
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { waitFor } from "./helpers/wait.js";
import { QUEUE } from "../src/jobs/names.js";

describe("two scheduler processes", () => {
  let deps: TestDeps;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await deps?.close();
  });

  it("produce one run of each job for a minute they both fire in", async () => {
    for (let i = 0; i < 2; i++) {
      children.push(spawn(process.execPath, ["--import", "tsx", "src/bin/scheduler.ts"], {
        env: {
          ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl,
          SECRET_KEY: TEST_SECRET_KEY, QUEUE_PREFIX: deps.config.QUEUE_PREFIX, LB_SYNC_MINUTES: "1", SSH_KEYS_SYNC_MINUTES: "1",
        },
        stdio: ["ignore", "inherit", "inherit"],
      }));
    }
    // No worker runs here, so every job the schedulers queue stays waiting.
    const queue = deps.jobs.queue(QUEUE.periodic);
    const jobs = await waitFor("both schedulers to fire once", async () => {
      const waiting = await queue.getJobs(["waiting"]);
      return waiting.some((j) => j.name === "lb-sync") && waiting.some((j) => j.name === "ssh-keys-sync") ? waiting : undefined;
    }, 75_000, 500);
    await new Promise((r) => setTimeout(r, 3000)); // the slower scheduler's adds have landed by now
    const after = await queue.getJobs(["waiting"]);
    const minute = (id: string) => id.slice(-12);
    for (const name of ["lb-sync", "ssh-keys-sync"]) {
      const ofName = after.filter((j) => j.name === name);
      // One job per minute slot, whichever of the two processes added it first.
      expect(new Set(ofName.map((j) => minute(j.id!))).size).toBe(ofName.length);
      expect(ofName.length).toBeGreaterThanOrEqual(1);
      expect(ofName.length).toBeLessThanOrEqual(2);
    }
    expect(jobs.length).toBeGreaterThan(0);
  }, 120_000);
});
