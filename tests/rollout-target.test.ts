// A roll-out onto a release (docs/rollouts.md): just before its launch, each instance gets the
// release and branches through the admin's own update (validated, audited), and its new appserver's
// frozen settings carry them; an instance whose recipe refuses the release fails with the admin
// form's message and keeps its settings. No worker runs: the test moves the roll-out on with the
// worker's own command, and the launches stay queued.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { decodeHtml, fieldError, visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { startRollout } from "../src/domain/rollouts/start-rollout.js";
import { advanceRollout } from "../src/domain/rollouts/advance-rollout.js";
import { controlRollout } from "../src/domain/rollouts/control-rollout.js";
import { readSnapshot } from "../src/domain/appservers/config-snapshot.js";

describe("a roll-out onto a release", () => {
  let t: TestApp;
  const actor = { id: null, login: "rita" };

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it("sets the release and branches on each instance before its launch, and fails the one whose recipe refuses it", async () => {
    const custom = await makeInstance(t.deps, { name: "A custom site", tags: ["move"], openedxRelease: "old-ref", edxPlatformBranch: "old-branch" });
    const tutor = await makeInstance(t.deps, { name: "B tutor site", tags: ["move"], openedxRelease: "old-ref", edxPlatformBranch: "old-branch" });
    await makeAppServer(t.deps, tutor.id, { status: "running", isActive: true });

    const rollout = await startRollout(t.deps, {
      actor,
      values: { tag: "move", target: "release", targetRelease: "new-ref", targetEdxPlatformBranch: "new-branch", targetConfigurationBranch: "", waveSize: "5", failureThreshold: "1" },
    });
    expect(rollout.filterDescription).toBe("tag move");
    // Moved to tutor after the start (the admin form, meanwhile): its launch still refuses the release.
    await t.deps.db.instance.update({ where: { id: tutor.id }, data: { recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo" } });
    expect(await advanceRollout(t.deps, { rolloutId: rollout.id })).toMatchObject({ status: "running", launched: 2 });

    const items = await t.deps.db.rolloutItem.findMany({ where: { rolloutId: rollout.id }, orderBy: { position: "asc" } });
    expect(items.map((i) => i.status)).toEqual(["launching", "failed"]);
    expect(items[1]!.error).toBe("Release new-ref not set, not launched: openedxRelease: The tutor recipe installs a named Open edX release: choose one of quince, redwood, sumac, teak, ulmo.");

    const moved = await t.deps.db.instance.findUniqueOrThrow({ where: { id: custom.id } });
    expect([moved.openedxRelease, moved.edxPlatformBranch]).toEqual(["new-ref", "new-branch"]);
    const launched = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: items[0]!.newAppServerId! } });
    const snapshot = readSnapshot(launched.configSnapshot, launched.name);
    expect(snapshot.instance).toMatchObject({ openedxRelease: "new-ref", edxPlatformBranch: "new-branch" });
    const update = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.updated", subjectId: String(custom.id) } });
    expect(update.actorLogin).toBe("rita");

    const kept = await t.deps.db.instance.findUniqueOrThrow({ where: { id: tutor.id } });
    expect([kept.openedxRelease, kept.edxPlatformBranch]).toEqual(["ulmo", "release/ulmo"]);
    expect(await t.deps.db.appServer.count({ where: { instanceId: tutor.id } })).toBe(1);
  });

  /** The roll-out form's fields for a release, as a browser sends them. */
  const releaseForm = (tag: string, more: Record<string, string> = {}) => ({
    tag, target: "release", targetRelease: "teak", targetEdxPlatformBranch: "", targetConfigurationBranch: "", waveSize: "2", failureThreshold: "0.2", ...more,
  });
  const review = (admin: Agent, values: Record<string, string>) => admin.get(`/rollouts/new?${new URLSearchParams({ ...values, review: "1" })}`);

  it("refuses a release or branch the admin form would refuse, by its field, at the review and at the start", async () => {
    await makeInstance(t.deps, { name: "Syntax site", tags: ["syntax"] });
    const admin = await t.loginAs("ada", { admin: true });
    const before = await t.deps.db.rollout.count();
    const badRelease = releaseForm("syntax", { targetRelease: "not a release!!" });

    const reviewed = await review(admin, badRelease);
    expect(reviewed.status).toBe(400);
    expect(fieldError(reviewed.text, "targetRelease")).toBe("Contains a space: a branch, tag or commit may use only letters, digits and . _ / + - @ (no spaces or shell characters).");
    expect(decodeHtml(reviewed.text)).toContain('value="not a release!!"');
    expect(visibleText(reviewed.text)).not.toContain("Start the roll-out");

    const started = await admin.submit("/rollouts", badRelease, "/rollouts/new");
    expect(started.status).toBe(400);
    expect(fieldError(started.text, "targetRelease")).toContain("Contains a space");
    expect(visibleText(started.text)).toContain("1 field needs attention; nothing was started.");

    const badBranches = releaseForm("syntax", { targetEdxPlatformBranch: "-x", targetConfigurationBranch: "a..b" });
    const branches = await review(admin, badBranches);
    expect(fieldError(branches.text, "targetEdxPlatformBranch")).toBe('A branch name must not start with "-".');
    expect(fieldError(branches.text, "targetConfigurationBranch")).toBe('Must not contain "..".');
    expect((await admin.submit("/rollouts", badBranches, "/rollouts/new")).status).toBe(400);
    expect(await t.deps.db.rollout.count()).toBe(before);
  });

  it("names at the review the instances whose recipe does not suit the release, and starts nothing", async () => {
    await makeInstance(t.deps, { name: "C custom site", tags: ["mixed"] });
    await makeInstance(t.deps, { name: "D tutor site", tags: ["mixed"], recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo" });
    await makeInstance(t.deps, { name: "E native site", tags: ["mixed"], recipe: "native", openedxRelease: "quince", edxPlatformBranch: "open-release/quince.master", configurationBranch: "open-release/quince.master" });
    const admin = await t.loginAs("ada", { admin: true });
    const before = await t.deps.db.rollout.count();

    const unsuited = "Release teak does not suit 1 of the 3 instances (the admin form refuses it there, so their launches would fail): " +
      "E native site: openedx/configuration stops at quince (the repository is archived): for teak, use the tutor recipe, or choose one of maple, nutmeg, olive, palm, quince. " +
      "Choose a release that suits them, or narrow the filters (a tag, the current release) to leave them out.";
    const reviewed = await review(admin, releaseForm("mixed"));
    expect(reviewed.status).toBe(400);
    expect(fieldError(reviewed.text, "targetRelease")).toBe(unsuited);
    expect(visibleText(reviewed.text)).not.toContain("Start the roll-out");

    const started = await admin.submit("/rollouts", releaseForm("mixed"), "/rollouts/new");
    expect(started.status).toBe(400);
    expect(fieldError(started.text, "targetRelease")).toBe(unsuited);
    expect(await t.deps.db.rollout.count()).toBe(before);

    // Quince suits all three recipes: the review offers to start.
    const quince = await review(admin, releaseForm("mixed", { targetRelease: "quince" }));
    expect(fieldError(quince.text, "targetRelease")).toBeNull();
    expect(visibleText(quince.text)).toContain("On release quince");
    expect(visibleText(quince.text)).toContain("Start the roll-out…");
  });

  it("shows a release typed in capitals as the instances store it, at the review and on the roll-out", async () => {
    await makeInstance(t.deps, { name: "F tutor site", tags: ["caps"], recipe: "tutor", openedxRelease: "teak", edxPlatformBranch: "release/teak" });
    const admin = await t.loginAs("ada", { admin: true });
    const capitals = releaseForm("caps", { targetRelease: "ULMO" });
    const reviewed = visibleText((await review(admin, capitals)).text);
    expect(reviewed).toContain("On release ulmo");
    expect(reviewed).not.toContain("ULMO");
    const started = await admin.submit("/rollouts", capitals, "/rollouts/new");
    const rollout = await t.deps.db.rollout.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(rollout.targetRelease).toBe("ulmo");
    expect(visibleText(started.text)).toContain("release ulmo");
    expect(visibleText(started.text)).not.toContain("ULMO");
    await controlRollout(t.deps, { rolloutId: rollout.id, action: "cancel", actor });
    // The "Current release" filter reads a known release the same way: TEAK selects the teak instance.
    const filtered = visibleText((await review(admin, { ...releaseForm(""), release: "TEAK", tag: "caps" })).text);
    expect(filtered).toContain("F tutor site");
    expect(filtered).toContain("release teak");
  });

  it("refuses an instance already in an unfinished roll-out, naming it", async () => {
    await expect(startRollout(t.deps, { actor, values: { tag: "move", target: "current", waveSize: "1", failureThreshold: "0.5" } }))
      .rejects.toThrow(/Some of these instances are in a roll-out that has not finished: A custom site \(roll-out #\d+\)/);
  });
});
