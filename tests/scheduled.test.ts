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
import { CLEANUP_PAGE_ROWS } from "../src/web/routes/cleanup.js";
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

  it("shows a fleet's plan a page at a time, narrows it to what would be terminated, and pins from any page", async () => {
    const inst = await makeInstance(t.deps, { name: "Big Fleet" });
    const snapshot = (await makeAppServer(t.deps, inst.id, { status: "running", isActive: true, createdAt: new Date(Date.now() - 50 * DAY) })).configSnapshot;
    // 449 more, inactive and 30 days old: all but the newest (the candidate) are to terminate.
    await t.deps.db.appServer.createMany({
      data: Array.from({ length: 449 }, (_, i) => ({
        instanceId: inst.id, number: i + 2, name: `Big ${i + 2}`, providerKind: "local" as const, status: "running" as const,
        configSnapshot: snapshot as object, createdAt: new Date(Date.now() - 30 * DAY - i * 60_000),
      })),
    });
    const op = await t.loginAs("paula");
    const rowsOf = (html: string) => [...html.matchAll(/<tr data-appserver="(\d+)">/g)].map((m) => Number(m[1]));
    const first = await op.get("/cleanup");
    const text = visibleText(first.text);
    const live = Number(/([\d,]+) live in all/.exec(text)![1]!.replace(/,/g, ""));
    const toTerminate = Number(/([\d,]+) appservers would be terminated/.exec(text)![1]!.replace(/,/g, ""));
    expect(live).toBeGreaterThanOrEqual(450);
    expect(toTerminate).toBeGreaterThanOrEqual(448);
    expect(rowsOf(first.text)).toHaveLength(CLEANUP_PAGE_ROWS);
    expect(text).toContain(`1\u2013200 of ${live.toLocaleString("en")}`);
    expect(first.text).toContain('href="/cleanup?page=2"');

    // Every live appserver on exactly one page, none twice.
    const pages = Math.ceil(live / CLEANUP_PAGE_ROWS);
    const seen = rowsOf(first.text);
    for (let p = 2; p <= pages; p++) seen.push(...rowsOf((await op.get(`/cleanup?page=${p}`)).text));
    expect(new Set(seen).size).toBe(live);
    expect(visibleText((await op.get(`/cleanup?page=${pages + 1}`)).text)).toContain(`Past the last page: there are ${live.toLocaleString("en")}`);

    // Only those to terminate, still paged; each row says so.
    const narrowed = await op.get("/cleanup?show=terminate&page=2");
    const fates = [...narrowed.text.matchAll(/<tr data-appserver="\d+">[\s\S]*?<\/tr>/g)].map((m) => visibleText(m[0]));
    expect(fates).toHaveLength(Math.min(CLEANUP_PAGE_ROWS, toTerminate - CLEANUP_PAGE_ROWS));
    expect(fates.every((f) => f.includes("to terminate"))).toBe(true);
    expect(visibleText(narrowed.text)).toContain(`201\u2013${Math.min(400, toTerminate)} of ${toTerminate.toLocaleString("en")}`);

    // A pin made on page 2 of the narrowed plan comes back to it; a forged return path goes to the plan.
    const target = rowsOf(narrowed.text)[0]!;
    const pinned = await op.submit(`/appservers/${target}/pin`, { back: "/cleanup?show=terminate&page=2" }, "/cleanup?show=terminate&page=2");
    expect(pinned.url).toBe(`${t.url}/cleanup?show=terminate&page=2`);
    expect(visibleText(pinned.text)).toContain("Pinned: cleanup keeps this appserver.");
    expect(visibleText((await op.get("/cleanup")).text)).toContain(`${(toTerminate - 1).toLocaleString("en")} appservers would be terminated`);
    const forged = await op.submit(`/appservers/${target}/unpin`, { back: "https://evil.test/cleanup" }, "/cleanup");
    expect(forged.url).toBe(`${t.url}/cleanup`);

    // Bad parameters: a 400 naming each, nothing else.
    for (const [query, message] of [["page=0", "page: pages start at 1"], ["page=x", "page: a page number"], ["show=kept", "show: use show=terminate"]] as const) {
      const bad = await op.get(`/cleanup?${query}`);
      expect(bad.status).toBe(400);
      expect(visibleText(bad.text)).toContain(message);
    }
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
