// The home page's "cleanup due today" (getCleanupDue) reads only the instances where an appserver
// could be due, by one SQL branch per rule; the cleanup plan (getCleanupPlan) reads every live appserver.
// On a fleet with each rule's cases, both must name the same appservers for the end of the day.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { getCleanupDue } from "../src/domain/cleanup/get-cleanup-due.js";
import { getCleanupPlan } from "../src/domain/cleanup/get-cleanup-plan.js";

const DAY = 86_400_000;
const NOW = new Date("2026-06-15T10:00:00Z");
const END_OF_DAY = new Date("2026-06-16T00:00:00Z");
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY);

describe("cleanup due today", () => {
  let deps: TestDeps;
  let clock = NOW;
  beforeAll(async () => {
    deps = await createTestDeps({}, { now: () => clock });
  });
  afterAll(() => deps.close());

  it("names exactly the appservers the cleanup plan terminates by the end of the day", async () => {
    const as = async (name: string, data: Parameters<typeof makeAppServer>[2]) => {
      const instance = await makeInstance(deps, { name });
      return { instance, server: await makeAppServer(deps, instance.id, data) };
    };
    const oldFailed = await as("Old failed", { status: "failed", createdAt: daysAgo(10) });
    await makeAppServer(deps, oldFailed.instance.id, { status: "running", isActive: true, createdAt: daysAgo(1), lastActivatedAt: daysAgo(1) });
    const pinned = await as("Pinned failed", { status: "failed", createdAt: daysAgo(10), isPinned: true });
    const young = await as("Young failed", { status: "failed", createdAt: daysAgo(2) });
    const oldRunning = await as("Old running", { status: "running", createdAt: daysAgo(40) });
    await makeAppServer(deps, oldRunning.instance.id, { status: "running", isActive: true, createdAt: daysAgo(30), lastActivatedAt: daysAgo(30) });
    const watched = await deps.db.watchedRepository.create({ data: { owner: "acme", name: "edx-platform", templateInstanceId: young.instance.id, keepDaysAfterClose: 3 } });
    const closedLongAgo = await as("PR 1", { status: "running", isActive: true, createdAt: daysAgo(6), lastActivatedAt: daysAgo(6) });
    await deps.db.instance.update({ where: { id: closedLongAgo.instance.id }, data: { watchedRepositoryId: watched.id, pullRequestNumber: 1, pullRequestState: "closed", pullRequestClosedAt: daysAgo(5) } });
    const closedYesterday = await as("PR 2", { status: "running", isActive: true, createdAt: daysAgo(6), lastActivatedAt: daysAgo(6) });
    await deps.db.instance.update({ where: { id: closedYesterday.instance.id }, data: { watchedRepositoryId: watched.id, pullRequestNumber: 2, pullRequestState: "closed", pullRequestClosedAt: daysAgo(1) } });

    clock = NOW;
    const due = await getCleanupDue(deps, { limit: 100 });
    clock = END_OF_DAY;
    const plan = await getCleanupPlan(deps);
    clock = NOW;

    const dueIds = due.rows.map((r) => r.id).sort((a, b) => a - b);
    const planned = plan.filter((p) => !p.fate.keep).map((p) => p.id).sort((a, b) => a - b);
    expect(dueIds).toEqual(planned);
    // Not an agreement on nothing: the old failed one, the older running one and the long-closed
    // sandbox's are due; the pinned, the young and the just-closed sandbox's are not.
    expect(dueIds).toEqual(expect.arrayContaining([oldFailed.server.id, oldRunning.server.id, closedLongAgo.server.id]));
    for (const kept of [pinned, young, closedYesterday]) expect(dueIds).not.toContain(kept.server.id);
    expect(due).toMatchObject({ by: END_OF_DAY, total: dueIds.length, atLeast: false });
  });

  it("counts a terminated appserver's activation when it decides the fallback", async () => {
    // The plan reads terminated appservers only when they were activated once: this one was, 3
    // days ago, so the running one launched before that is the fallback, not the candidate.
    const instance = await makeInstance(deps, { name: "Switched" });
    const before = await makeAppServer(deps, instance.id, { status: "running", createdAt: daysAgo(20) });
    await makeAppServer(deps, instance.id, { status: "terminated", createdAt: daysAgo(10), lastActivatedAt: daysAgo(3) });
    await makeAppServer(deps, instance.id, { status: "terminated", createdAt: daysAgo(9) });
    clock = NOW;
    const plan = await getCleanupPlan(deps);
    expect(plan.filter((p) => p.instanceId === instance.id).map((p) => [p.id, p.instanceName, p.fate])).toEqual([
      [before.id, "Switched", { keep: true, reason: "fallback", dueOn: new Date(daysAgo(3).getTime() + 14 * DAY) }],
    ]);
  });
});
