import { describe, expect, it } from "vitest";
import { planCleanup, type PlanRow } from "../src/domain/cleanup/plan-cleanup.js";

const NOW = new Date("2026-06-30T12:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
let nextId = 1;
function row(instanceId: number, status: string, ageDays: number, extra: Partial<PlanRow> = {}): PlanRow {
  const id = nextId++;
  return { id, instanceId, name: `AS${id}`, status, isActive: false, isPinned: false, createdAt: daysAgo(ageDays), lastActivatedAt: null, ...extra };
}

describe("cleanup plan", () => {
  it("keeps active, candidate and fallback appservers and terminates the rest once old enough", () => {
    const oldest = row(1, "running", 60, { lastActivatedAt: daysAgo(59) });
    const previous = row(1, "running", 40, { lastActivatedAt: daysAgo(39) });
    const active = row(1, "running", 20, { isActive: true, lastActivatedAt: daysAgo(2) });
    const candidate = row(1, "running", 1);
    const olderCandidate = row(1, "running", 1.5);
    const failedOld = row(1, "failed", 10);
    const failedYoung = row(1, "failed", 2);
    const errorOld = row(1, "error", 8);
    const provisioning = row(1, "configuring", 30);
    const pinned = row(1, "running", 90, { isPinned: true });
    const gone = row(1, "terminated", 100);
    const plan = planCleanup([oldest, previous, active, candidate, olderCandidate, failedOld, failedYoung, errorOld, provisioning, pinned, gone], { failedDays: 7, inactiveDays: 14 }, NOW);

    expect(plan.get(active.id)).toEqual({ keep: true, reason: "active" });
    expect(plan.get(candidate.id)).toEqual({ keep: true, reason: "candidate" });
    // created after the last activation but not the newest: kept only while young
    expect(plan.get(olderCandidate.id)).toMatchObject({ keep: true, reason: "too young" });
    // the newest from before the switch, kept for a rollback until 14 days after the switch
    expect(plan.get(previous.id)).toEqual({ keep: true, reason: "fallback", dueOn: new Date(daysAgo(2).getTime() + 14 * 86_400_000) });
    expect(plan.get(oldest.id)).toEqual({ keep: false, reason: "inactive and older than 14 days" });
    expect(plan.get(failedOld.id)).toEqual({ keep: false, reason: "failed more than 7 days ago" });
    expect(plan.get(failedYoung.id)).toEqual({ keep: true, reason: "too young", dueOn: new Date(daysAgo(2).getTime() + 7 * 86_400_000) });
    expect(plan.get(errorOld.id)).toEqual({ keep: false, reason: "error more than 7 days ago" });
    expect(plan.get(provisioning.id)).toEqual({ keep: true, reason: "provisioning" });
    expect(plan.get(pinned.id)).toEqual({ keep: true, reason: "pinned" });
    expect(plan.has(gone.id)).toBe(false);
  });

  it("lets the fallback go once the retention period after the switch has passed", () => {
    const previous = row(2, "running", 40, { lastActivatedAt: daysAgo(39) });
    const active = row(2, "running", 30, { isActive: true, lastActivatedAt: daysAgo(20) });
    const plan = planCleanup([previous, active], { failedDays: 7, inactiveDays: 14 }, NOW);
    expect(plan.get(previous.id)).toEqual({ keep: false, reason: "inactive and older than 14 days" });
  });

  it("treats instances separately", () => {
    const a = row(3, "running", 30);
    const b = row(4, "running", 30);
    const plan = planCleanup([a, b], { failedDays: 7, inactiveDays: 14 }, NOW);
    expect(plan.get(a.id)).toEqual({ keep: true, reason: "candidate" });
    expect(plan.get(b.id)).toEqual({ keep: true, reason: "candidate" });
  });
});
