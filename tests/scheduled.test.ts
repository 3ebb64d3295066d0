// Scheduled work: periodic jobs de-duplicated across schedulers, the cleanup plan page matching what
// the cleanup then does, and the log purge. Time is moved by the test (deps.now), never slept.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { enqueuePeriodic } from "../src/jobs/schedules.js";
import { JOB, QUEUE } from "../src/jobs/names.js";
import { createJobs } from "../src/jobs/queues.js";
import { runCleanup } from "../src/domain/cleanup/run-cleanup.js";
import { deleteAppServerVm } from "../src/domain/appservers/delete-appserver-vm.js";
import { PAYLOADS } from "../src/jobs/payloads.js";
import { purgeLogs } from "../src/domain/logs/purge-logs.js";
import type { VmProvider } from "../src/domain/provisioning/ports.js";

const DAY = 86_400_000;

describe("scheduled work", () => {
  let t: TestApp;
  const deleted: string[] = [];
  // Records what cleanup asks the cloud to delete (the VMs here are rows only).
  const provider = { deleteServer: async (id: string) => void deleted.push(id) } as unknown as VmProvider;
  beforeAll(async () => {
    t = await startTestApp({ CLEANUP_FAILED_DAYS: "7", CLEANUP_INACTIVE_DAYS: "14", LOG_RETENTION_DAYS: "30" });
  });
  afterAll(() => t.close());

  it("makes one job when two schedulers fire for the same minute", async () => {
    const other = createJobs(t.deps.redis.duplicate(), t.deps.config.QUEUE_PREFIX);
    const due = new Date("2026-11-24T03:30:00Z");
    await Promise.all([
      enqueuePeriodic(t.deps, JOB.cleanup, due),
      enqueuePeriodic({ jobs: other, log: t.deps.log }, JOB.cleanup, new Date(due.getTime() + 700)),
    ]);
    const jobs = await t.deps.jobs.queue(QUEUE.periodic).getJobs(["waiting", "delayed", "active", "completed"]);
    expect(jobs.filter((j) => j.name === "cleanup").map((j) => j.id)).toEqual(["cleanup-202611240330"]);
    await enqueuePeriodic(t.deps, JOB.cleanup, new Date(due.getTime() + 86_400_000));
    expect((await t.deps.jobs.queue(QUEUE.periodic).getJobs(["waiting"])).filter((j) => j.name === "cleanup")).toHaveLength(2);
    await other.close();
  });

  it("terminates exactly the appservers the plan page listed", async () => {
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY);
    const inst = await makeInstance(t.deps, { name: "Fleet One" });
    const mk = (name: string, data: Record<string, unknown>) => makeAppServer(t.deps, inst.id, { name, providerServerId: `vm-${name}`, ...data });
    const old = await mk("old", { status: "running", createdAt: ago(60), lastActivatedAt: ago(59) });
    const fallback = await mk("fallback", { status: "running", createdAt: ago(40), lastActivatedAt: ago(39) });
    await mk("active", { status: "running", isActive: true, createdAt: ago(20), lastActivatedAt: ago(3) });
    await mk("candidate", { status: "running", createdAt: ago(1) });
    const failedOld = await mk("failed-old", { status: "failed", createdAt: ago(10) });
    await mk("failed-young", { status: "failed", createdAt: ago(2) });
    await mk("pinned", { status: "running", createdAt: ago(90), isPinned: true });

    const admin = await t.loginAs("carl");
    const page = await admin.get("/cleanup");
    const rows = [...page.text.matchAll(/<tr data-appserver="(\d+)">[\s\S]*?<\/tr>/g)].map((m) => visibleText(m[0]));
    const listed = rows.filter((r) => r.includes("to terminate")).map((r) => r.split(" ")[2]);
    expect(listed.sort()).toEqual(["failed-old", "old"]);
    expect(rows.find((r) => r.includes("fallback"))).toContain("kept: fallback — due on");
    expect(rows.find((r) => r.includes(" candidate "))).toContain("kept: candidate");
    expect(rows.find((r) => r.includes("pinned"))).toContain("kept: pinned");
    expect(visibleText(page.text)).toContain("2 appservers would be terminated if it ran now.");

    const outcome = await runCleanup(t.deps);
    expect(outcome.failed).toEqual([]);
    expect(outcome.terminated.sort()).toEqual([old.id, failedOld.id].sort());
    // The VM deletes were queued through the outbox by the terminated transitions: run them.
    const deletes = await t.deps.db.outboxMessage.findMany({ where: { kind: "delete-appserver-vm" } });
    for (const row of deletes) await deleteAppServerVm(t.deps, { ...PAYLOADS[JOB.deleteAppServerVm].parse(row.payload), provider: () => provider });
    expect(deleted.sort()).toEqual(["vm-failed-old", "vm-old"]);
    const live = await t.deps.db.appServer.findMany({ where: { instanceId: inst.id, status: { not: "terminated" } }, select: { name: true } });
    expect(live.map((l) => l.name).sort()).toEqual(["active", "candidate", "failed-young", "fallback", "pinned"]);
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: fallback.id } })).status).toBe("running");
  });

  it("pins an appserver from the plan page so cleanup keeps it", async () => {
    const inst = await makeInstance(t.deps);
    const as = await makeAppServer(t.deps, inst.id, { status: "error", createdAt: new Date(Date.now() - 30 * DAY) });
    const op = await t.loginAs("pia");
    await op.submit(`/appservers/${as.id}/pin`, {}, "/cleanup");
    const row = visibleText([...(await op.get("/cleanup")).text.matchAll(new RegExp(`<tr data-appserver="${as.id}">[\\s\\S]*?</tr>`, "g"))][0]![0]);
    expect(row).toContain("kept: pinned");
    expect(row).toContain("Unpin");
  });

  it("lets an admin run a scheduled job by hand from the admin area, and only an admin", async () => {
    const admin = await t.loginAs("ada", { admin: true });
    const page = visibleText((await admin.get("/admin/jobs")).text);
    expect(page).toContain("log-purge 15 4 * * *");
    const res = await admin.submit("/admin/jobs/log-purge/run", {}, "/admin/jobs");
    expect(visibleText(res.text)).toContain("Queued log-purge; a worker runs it now.");
    const queued = (await t.deps.jobs.queue(QUEUE.periodic).getJobs(["waiting"])).filter((j) => j.name === "log-purge");
    expect(queued).toHaveLength(1);
    expect(queued[0]!.id).toMatch(/^log-purge-manual-\d+$/);
    const operator = await t.loginAs("olga");
    expect((await operator.get("/admin/jobs")).status).toBe(403);
    expect((await admin.submit("/admin/jobs/format-disks/run", {}, "/admin/jobs")).status).toBe(404);
  });

  it("purges log lines older than the retention period, and only those", async () => {
    const inst = await makeInstance(t.deps);
    const as = await makeAppServer(t.deps, inst.id);
    const old = new Date(Date.now() - 40 * DAY);
    await t.deps.db.logEntry.createMany({ data: Array.from({ length: 12_000 }, (_, i) => ({ appServerId: as.id, seq: i + 1, text: `old ${i}`, createdAt: old })) });
    await t.deps.db.logEntry.createMany({ data: [{ appServerId: as.id, seq: 12_001, text: "recent" }] });
    const result = await purgeLogs(t.deps, { pauseMs: 0 });
    expect(result.deleted).toBeGreaterThanOrEqual(12_000);
    const left = await t.deps.db.logEntry.findMany({ where: { appServerId: as.id }, select: { text: true } });
    expect(left).toEqual([{ text: "recent" }]);
  });
});
