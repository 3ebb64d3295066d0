// Release roll-outs (issue 18, docs/rollouts.md) end to end: five instances on the real local
// provider (sshd on loopback), real git and ansible-playbook, the worker's real jobs and outbox
// relay. One instance's playbook fails (its extra variables say so), which pauses the roll-out of
// waves of 2 with the ratio named; resume finishes it; a second roll-out is paused and cancelled.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, visibleText, type Agent } from "./helpers/browserless.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { HELLO_PLAYBOOK, makeGitRepo, SERVE_HEARTBEAT_PLAY } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

/** The quick playbook, failing before /heartbeat is served on an instance whose variables set ROLLOUT_FAIL. */
const PLAYBOOK = `${HELLO_PLAYBOOK}
- hosts: all
  gather_facts: false
  tasks:
    - name: Fail where the instance asks for it
      ansible.builtin.fail:
        msg: "This instance is set up to fail (ROLLOUT_FAIL)."
      when: ROLLOUT_FAIL | default(false) | bool
${SERVE_HEARTBEAT_PLAY}`;

const TAG = "wave-test";
const LAUNCH_MS = 240_000;

describe("release roll-outs on the local provider", () => {
  let vms: LocalVms;
  let t: TestApp;
  let workers: RunningWorkers;
  let operator: Agent;
  let repo: ReturnType<typeof makeGitRepo>;
  const instances: { id: number; name: string; oldId: number }[] = [];

  beforeAll(async () => {
    vms = await localVms();
    t = await startTestApp({ ...vms.env, JOB_RETRY_DELAY_SECONDS: "1", OUTBOX_SWEEP_SECONDS: "1" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    operator = await t.loginAs("otis");
    repo = makeGitRepo({ "playbooks/quick.yml": PLAYBOOK });
    for (const n of [1, 2, 3, 4, 5]) {
      const instance = await makeInstance(t.deps, {
        name: `Roll ${n}`, tags: [TAG], openedxRelease: "main",
        configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml",
        extraAnsibleVars: n === 2 ? "ROLLOUT_FAIL: true\n" : "",
      });
      // The appserver serving the site before the roll-out (no VM behind it: it is only deactivated).
      const old = await makeAppServer(t.deps, instance.id, { status: "running", isActive: true, lastActivatedAt: new Date() });
      instances.push({ id: instance.id, name: instance.name, oldId: old.id });
    }
    // Not in the roll-out: another tag.
    await makeInstance(t.deps, { name: "Elsewhere", tags: ["other"] });
  }, 60_000);
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await t?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  const form = (more: Record<string, string> = {}) => ({ tag: TAG, target: "current", waveSize: "2", failureThreshold: "0.3", ...more });
  const rolloutPage = async (id: number) => visibleText((await operator.get(`/rollouts/${id}`)).text);
  const items = (rolloutId: number) => t.deps.db.rolloutItem.findMany({ where: { rolloutId }, orderBy: { position: "asc" }, include: { instance: { select: { name: true } } } });
  const statusOf = async (rolloutId: number) => (await t.deps.db.rollout.findUniqueOrThrow({ where: { id: rolloutId } })).status;

  it("refuses a wave size of 0 and a threshold of 2 with a message by each field, and starts nothing", async () => {
    const res = await operator.submit("/rollouts", form({ waveSize: "0", failureThreshold: "2" }), "/rollouts/new");
    expect(res.status).toBe(400);
    expect(fieldError(res.text, "waveSize")).toBe("The wave size is how many instances are relaunched at once: a whole number from 1 to 50.");
    expect(fieldError(res.text, "failureThreshold")).toContain('The failure threshold is a ratio from 0 to 1, not "2"');
    expect(visibleText(res.text)).toContain("2 fields need attention; nothing was started.");
    expect(await t.deps.db.rollout.count()).toBe(0);

    // Setting a release edits the instances: an admin's work, refused to an operator.
    const release = await operator.submit("/rollouts", form({ target: "release", targetRelease: "teak" }), "/rollouts/new");
    expect(release.status).toBe(409);
    expect(visibleText(release.text)).toContain("Only admins may roll out a release (it changes each instance's settings); roll out on the current settings, or ask an admin.");

    const none = await operator.submit("/rollouts", form({ tag: "", q: "no-such-instance" }), "/rollouts/new");
    expect(visibleText(none.text)).toContain("No instance matches these filters (archived instances are never rolled out); nothing was started.");
    expect(await t.deps.db.rollout.count()).toBe(0);
  });

  it("previews the instances the filters choose, and asks for confirmation once the form is reviewed", async () => {
    const first = visibleText((await operator.get(`/rollouts/new?tag=${TAG}`)).text);
    expect(first).toContain("5 instances would be relaunched");
    expect(first).toContain("Roll 1");
    expect(first).not.toContain("Elsewhere");
    expect(first).not.toContain("Start the roll-out");
    const reviewed = visibleText((await operator.get(`/rollouts/new?${new URLSearchParams({ ...form(), review: "1" })}`)).text);
    expect(reviewed).toContain("On their current settings");
    expect(reviewed).toContain("in waves of 2, pausing once more than 30% of the finished ones fail.");
    expect(reviewed).toContain("Relaunch 5 instances in waves of 2?");
  });

  it("relaunches 5 instances in waves of 2, pauses when one of the first wave fails, and finishes once resumed", async () => {
    const started = await operator.submit("/rollouts", form(), "/rollouts/new");
    expect(started.status).toBe(200);
    const rollout = await t.deps.db.rollout.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(started.url).toMatch(new RegExp(`/rollouts/${rollout.id}$`));
    expect(visibleText(started.text)).toContain(`Roll-out #${rollout.id} started: the first wave is launching.`);

    // Checked once the whole wave has ended: the other launch of the wave was activated.
    const paused = await waitFor("the roll-out to pause with its first wave ended", async () => {
      const now = await items(rollout.id);
      return (await statusOf(rollout.id)) === "paused" && now.every((i) => i.status !== "launching" && i.status !== "activating") && now;
    }, LAUNCH_MS, 500);
    expect(paused.map((i) => [i.instance.name, i.status])).toEqual([
      ["Roll 1", "done"], ["Roll 2", "failed"], ["Roll 3", "pending"], ["Roll 4", "pending"], ["Roll 5", "pending"],
    ]);
    expect(paused[1]!.error).toContain("AppServer 2 ended failed");
    const page = await rolloutPage(rollout.id);
    expect(page).toContain("Paused: 1 of 2 finished instances failed (50%), above the failure threshold of 30%.");
    expect(page).toContain("Wave 1 of 3");
    // The one that failed still serves its site from its old appserver; the other swapped.
    const old2 = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: instances[1]!.oldId } });
    expect(old2.isActive).toBe(true);

    const resumed = await operator.submit(`/rollouts/${rollout.id}/resume`, {}, `/rollouts/${rollout.id}`);
    expect(visibleText(resumed.text)).toContain("Resumed: the next wave is launching.");
    await waitFor("the roll-out to finish", async () => (await statusOf(rollout.id)) === "done", 2 * LAUNCH_MS, 500);
    const done = await items(rollout.id);
    expect(done.map((i) => i.status)).toEqual(["done", "failed", "done", "done", "done"]);
    for (const [n, item] of done.entries()) {
      if (item.status !== "done") continue;
      const [fresh, old] = await Promise.all([
        t.deps.db.appServer.findUniqueOrThrow({ where: { id: item.newAppServerId! } }),
        t.deps.db.appServer.findUniqueOrThrow({ where: { id: item.oldAppServerId! } }),
      ]);
      expect([fresh.status, fresh.isActive, old.id, old.isActive]).toEqual(["running", true, instances[n]!.oldId, false]);
    }
    const finished = await rolloutPage(rollout.id);
    expect(finished).toContain("Finished: 4 done, 1 failed.");
    expect(finished).not.toContain("Resume");

    // One audit row for the roll-out as a whole (plus the pause, which Ocim did, and the resume).
    const audit = await t.deps.db.auditEvent.findMany({ where: { subjectType: "Rollout", subjectId: String(rollout.id) }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.actorLogin])).toEqual([["rollout.started", "otis"], ["rollout.paused", "ocim"], ["rollout.resumed", "otis"]]);
    expect((audit[0]!.diff as { instances: [null, string[]] }).instances[1]).toEqual(["Roll 1", "Roll 2", "Roll 3", "Roll 4", "Roll 5"]);
    // The usual per-appserver rows, by the person who started it.
    expect(await t.deps.db.auditEvent.count({ where: { action: "appserver.activated_exclusively", actorLogin: "otis" } })).toBe(4);
  }, 4 * LAUNCH_MS);

  it("pauses and cancels on request: nothing more launches, and the launch under way is kept, not activated", async () => {
    const started = await operator.submit("/rollouts", form({ waveSize: "1", failureThreshold: "1" }), "/rollouts/new");
    const rollout = await t.deps.db.rollout.findFirstOrThrow({ orderBy: { id: "desc" } });
    expect(started.url).toMatch(new RegExp(`/rollouts/${rollout.id}$`));
    const first = await waitFor("the first launch", async () => (await items(rollout.id))[0]!.newAppServerId ?? undefined, 30_000);

    const paused = await operator.submit(`/rollouts/${rollout.id}/pause`, {}, `/rollouts/${rollout.id}`);
    expect(visibleText(paused.text)).toContain("Paused by otis.");
    const again = await operator.submit(`/rollouts/${rollout.id}/pause`, {}, `/rollouts/${rollout.id}`);
    expect(visibleText(again.text)).toContain(`Roll-out #${rollout.id} is paused; only a running roll-out can be paused.`);

    const cancelled = await operator.submit(`/rollouts/${rollout.id}/cancel`, {}, `/rollouts/${rollout.id}`);
    expect(visibleText(cancelled.text)).toContain("Cancelled by otis.");
    expect((await items(rollout.id)).map((i) => i.status)).toEqual(["skipped", "skipped", "skipped", "skipped", "skipped"]);

    const ended = await waitFor("the cancelled launch to end", async () => {
      const as = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: first } });
      return as.status === "running" ? as : undefined;
    }, LAUNCH_MS, 500);
    expect(ended.isActive).toBe(false);
    expect(await statusOf(rollout.id)).toBe("cancelled");
    expect(await t.deps.db.appServer.count({ where: { instanceId: instances[0]!.id, status: { in: ["new", "waiting", "configuring"] } } })).toBe(0);
    const page = await rolloutPage(rollout.id);
    expect(page).toContain("during this launch; its new appserver is kept, not activated.");
  }, 2 * LAUNCH_MS);
});
