// The scheduler: which periodic jobs a minute is due for (decided with a moved clock, never by
// waiting for a real cron minute), and two schedulers firing for the same minute making one job
// per slot: the job id names the minute it is due, and BullMQ keeps the first add.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { dueJobs, enqueueDue } from "../src/jobs/schedules.js";
import { createJobs } from "../src/jobs/queues.js";
import { QUEUE } from "../src/jobs/names.js";

describe("the scheduler", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps({ LB_SYNC_MINUTES: "5", SSH_KEYS_SYNC_MINUTES: "120", CLEANUP_CRON: "30 3 * * 1" });
  });
  afterAll(() => deps.close());

  // node-cron matches in the process's time zone; these minutes are written in it.
  const at = (hhmm: string, day = "2026-11-30") => new Date(`${day}T${hhmm}:00`);

  it("maps each schedule to the minutes it is due", () => {
    expect(dueJobs(deps.config, at("12:05"))).toEqual(["lb-sync", "reconcile", "advance-rollouts"]);
    expect(dueJobs(deps.config, at("12:06"))).toEqual(["reconcile", "advance-rollouts"]);
    // Any second within the minute is that minute.
    expect(dueJobs(deps.config, new Date(at("12:05").getTime() + 59_000))).toEqual(["lb-sync", "reconcile", "advance-rollouts"]);
    // Pull requests of watched repositories are polled every PR_SANDBOX_POLL_MINUTES (10).
    expect(dueJobs(deps.config, at("14:00"))).toEqual(["lb-sync", "ssh-keys-sync", "reconcile", "poll-pull-requests", "advance-rollouts"]);
    expect(dueJobs(deps.config, at("04:15"))).toContain("log-purge");
    expect(dueJobs(deps.config, at("09:45"))).toContain("orphans");
    // Certificates: ordered and renewed hourly, at half past.
    expect(dueJobs(deps.config, at("12:30"))).toEqual(["lb-sync", "reconcile", "certificate-renewal", "poll-pull-requests", "advance-rollouts"]);
    // CLEANUP_CRON: Mondays only (30 Nov 2026 is a Monday).
    expect(dueJobs(deps.config, at("03:30"))).toContain("cleanup");
    expect(dueJobs(deps.config, at("08:00"))).toContain("daily-notifications");
    expect(dueJobs(deps.config, at("09:00"))).not.toContain("daily-notifications");
    expect(dueJobs(deps.config, at("03:30", "2026-12-01"))).not.toContain("cleanup");
  });

  it("makes one job per slot when two schedulers fire for the same minute", async () => {
    // A second scheduler process: its own Redis connection and queues.
    const other = createJobs(deps.redis.duplicate(), deps.config.QUEUE_PREFIX);
    try {
      const due = at("14:00");
      // The second fires a little later in the same minute (its clock, its event loop).
      const [fromA, fromB] = await Promise.all([
        enqueueDue(deps, due),
        enqueueDue({ ...deps, jobs: other }, new Date(due.getTime() + 1500)),
      ]);
      expect(fromB).toEqual(fromA);
      const jobs = await deps.jobs.queue(QUEUE.periodic).getJobs(["waiting"]);
      const slot = due.toISOString().slice(0, 16).replace(/[-:T]/g, "");
      expect(jobs.map((j) => j.id).sort()).toEqual(["lb-sync", "reconcile", "ssh-keys-sync", "poll-pull-requests", "advance-rollouts"].map((n) => `${n}-${slot}`).sort());
      // The next minute is a slot of its own.
      await enqueueDue(deps, new Date(due.getTime() + 60_000));
      expect((await deps.jobs.queue(QUEUE.periodic).getJobs(["waiting"])).filter((j) => j.name === "reconcile")).toHaveLength(2);
    } finally {
      await other.close();
    }
  });
});
