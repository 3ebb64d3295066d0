// A roll-out cancelled during its first wave (docs/rollouts.md): the wave whose launch went out is
// counted as started, whether the cancel came after the launch was recorded or while it was going
// out. No worker runs: the test moves the roll-out on with the worker's own commands, and the
// launches stay queued.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { startRollout } from "../src/domain/rollouts/start-rollout.js";
import { advanceRollout } from "../src/domain/rollouts/advance-rollout.js";
import { controlRollout } from "../src/domain/rollouts/control-rollout.js";
import { launchItem } from "../src/domain/rollouts/rollout-items.js";

describe("a roll-out cancelled during its first wave", () => {
  let t: TestApp;
  let operator: Agent;
  const actor = { id: null, login: "rita" };
  const summary = async (rolloutId: number) => visibleText((await operator.get(`/rollouts/${rolloutId}`)).text);

  beforeAll(async () => {
    t = await startTestApp();
    operator = await t.loginAs("otis");
  });
  afterAll(() => t?.close());

  const start = async (tag: string) => {
    for (const n of [1, 2]) await makeInstance(t.deps, { name: `${tag} ${n}`, tags: [tag] });
    return startRollout(t.deps, { actor, values: { tag, target: "current", waveSize: "1", failureThreshold: "1" } });
  };

  it("says wave 1 once the first wave's launch went out", async () => {
    const rollout = await start("first");
    expect(await summary(rollout.id)).toContain("Wave 0 of 2");
    expect(await advanceRollout(t.deps, { rolloutId: rollout.id })).toMatchObject({ launched: 1 });
    await controlRollout(t.deps, { rolloutId: rollout.id, action: "cancel", actor });
    const items = await t.deps.db.rolloutItem.findMany({ where: { rolloutId: rollout.id }, orderBy: { position: "asc" } });
    expect(items.map((i) => [i.status, i.newAppServerId !== null])).toEqual([["skipped", true], ["skipped", false]]);
    expect(await summary(rollout.id)).toContain("Wave 1 of 2 · 0 done, 0 failed, 0 in progress, 0 waiting, 2 skipped");
  });

  it("records the new appserver of a launch the cancel overtook, and counts its wave", async () => {
    const rollout = await start("overtaken");
    // The wave took the first item; the cancel lands before its launch is recorded.
    const [first] = await t.deps.db.rolloutItem.findMany({ where: { rolloutId: rollout.id }, orderBy: { position: "asc" } });
    await t.deps.db.rolloutItem.update({ where: { id: first!.id }, data: { status: "launching" } });
    await controlRollout(t.deps, { rolloutId: rollout.id, action: "cancel", actor });
    expect(await launchItem(t.deps, rollout, { ...first!, status: "launching" }, actor)).toBe("launched");
    const item = await t.deps.db.rolloutItem.findUniqueOrThrow({ where: { id: first!.id }, include: { newAppServer: true } });
    expect(item.status).toBe("skipped");
    expect(item.newAppServer?.instanceId).toBe(first!.instanceId);
    const page = await summary(rollout.id);
    expect(page).toContain("Wave 1 of 2");
    expect(page).toContain(`${item.newAppServer!.name} new`);
  });
});
