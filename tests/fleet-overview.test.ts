// The home page's panels when more match than a panel shows: the first PANEL_ROWS in the panel's
// order, each with its own step, and the count of all of them (getFleetOverview reads the step of
// the rows shown only). Real PostgreSQL; the clock is injected.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { getFleetOverview, PANEL_ROWS } from "../src/domain/fleet/get-fleet-overview.js";

const NOW = new Date("2026-12-04T12:00:00Z");
const MIN = 60_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
/** "Busy 01" … "Busy 12": names whose order by name is their number's. */
const named = (prefix: string, n: number) => `${prefix} ${String(n).padStart(2, "0")}`;

describe("the fleet overview's panels past their rows", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps({}, { now: () => NOW });
  });
  afterAll(() => deps.close());

  it("shows the longest-provisioning ten with their own steps and counts all twelve; the failing ones likewise", async () => {
    for (let n = 1; n <= PANEL_ROWS + 2; n++) {
      const instance = await makeInstance(deps, { name: named("Busy", n) });
      // Busy 01 launched 12 minutes ago, Busy 12 one minute ago; each at a step of its own.
      const busy = await makeAppServer(deps, instance.id, { status: "configuring", createdAt: ago((PANEL_ROWS + 3 - n) * MIN) });
      await deps.db.appServerStep.create({ data: { appServerId: busy.id, name: "prepare-data", position: 1, startedAt: ago(MIN), endedAt: ago(MIN / 2), outcome: "done" } });
      await deps.db.appServerStep.create({ data: { appServerId: busy.id, name: n % 2 ? "tail" : "wait-vm", position: n % 2 ? 7 : 3, startedAt: ago(MIN / 2) } });
      const broken = await makeInstance(deps, { name: named("Broken", n) });
      const failed = await makeAppServer(deps, broken.id, { status: "failed", createdAt: ago(60 * MIN), statusChangedAt: ago(n * MIN) });
      await deps.db.appServerStep.create({ data: { appServerId: failed.id, name: "tail", position: 7, startedAt: ago(50 * MIN), endedAt: ago(n * MIN), outcome: "failed" } });
    }

    const { provisioning, failing } = await getFleetOverview(deps);

    expect(provisioning.total).toBe(PANEL_ROWS + 2);
    expect(provisioning.rows.map((r) => r.instanceName)).toEqual(Array.from({ length: PANEL_ROWS }, (_, i) => named("Busy", i + 1)));
    // The odd ones are at the playbook (step 7), the even ones waiting for their VM (step 3): each
    // row's own last step, not its neighbour's nor its first.
    for (const [i, row] of provisioning.rows.entries()) expect(row.step, row.instanceName).toMatch(i % 2 === 0 ? /^Step 7 of \d+/ : /^Step 3 of \d+/);
    expect(failing.total).toBe(PANEL_ROWS + 2);
    // Failed most recently first.
    expect(failing.rows.map((r) => r.instanceName)).toEqual(Array.from({ length: PANEL_ROWS }, (_, i) => named("Broken", i + 1)));
    for (const row of failing.rows) expect(row.step).toMatch(/^step 7 of \d+/);
  });
});
