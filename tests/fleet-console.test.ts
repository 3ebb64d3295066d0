// The console for a fleet (issue 16) over HTTP: the home page's panels, the appserver page's ssh
// command (or why there is none), Relaunch of a failed appserver and the "what changed" diff.
// Real PostgreSQL and Redis; the clock is injected and moved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listInstances } from "../src/domain/instances/list-instances.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { fetchStatusKey } from "../src/domain/sshkeys/fetch-github-keys.js";
import { syncedKey, accountName } from "../src/domain/sshkeys/sync-ssh-access.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { cancelAppServer } from "../src/domain/appservers/cancel-appserver.js";
import { spreadAppServerIds } from "./helpers/live.js";

const NOW = new Date("2026-12-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const MIN = 60_000;
const DAY = 86_400_000;

/** One panel of the home page as a person reads it. */
function panel(html: string, id: string): string {
  const match = html.match(new RegExp(`<section class="panel fleet-panel" aria-labelledby="${id}">([\\s\\S]*?)</section>`));
  if (!match) throw new Error(`no panel ${id}`);
  return visibleText(match[1]!);
}

describe("the fleet console", () => {
  let t: TestApp;
  let operator: Agent;
  let clock = NOW;

  beforeAll(async () => {
    t = await startTestApp({ CLEANUP_FAILED_DAYS: "7", CLEANUP_INACTIVE_DAYS: "14", SSH_KEYS_SYNC_MINUTES: "15" }, { now: () => clock });
    await spreadAppServerIds(t.deps);
    operator = await t.loginAs("olive");
  });
  afterAll(() => t?.close());

  describe("home page", () => {
    beforeAll(async () => {
      const olive = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "olive" } });
      // Failing now: its newest appserver failed at the playbook step, after 25 minutes.
      const broken = await makeInstance(t.deps, { name: "Broken Academy" });
      await makeAppServer(t.deps, broken.id, { status: "running", isActive: true, createdAt: ago(3 * DAY), statusChangedAt: ago(3 * DAY) });
      const failed = await makeAppServer(t.deps, broken.id, {
        status: "failed", createdAt: ago(60 * MIN), statusChangedAt: ago(35 * MIN), failureSummary: 'Task "Install edxapp" failed: exit 2', createdById: olive.id, createdByLogin: olive.githubLogin,
      });
      await t.deps.db.appServerStep.create({ data: { appServerId: failed.id, name: "tail", position: 7, startedAt: ago(50 * MIN), endedAt: ago(35 * MIN), outcome: "failed" } });
      // Failed but superseded by a later launch that runs: not failing now.
      const recovered = await makeInstance(t.deps, { name: "Recovered College" });
      await makeAppServer(t.deps, recovered.id, { status: "failed", createdAt: ago(2 * DAY), statusChangedAt: ago(2 * DAY) });
      await makeAppServer(t.deps, recovered.id, { status: "running", isActive: true, createdAt: ago(DAY), statusChangedAt: ago(DAY) });
      // Provisioning: waiting for its VM for 7 minutes; it has no active appserver either.
      const fresh = await makeInstance(t.deps, { name: "fresh institute" });
      const busy = await makeAppServer(t.deps, fresh.id, { status: "waiting", vmStatus: "booting", createdAt: ago(7 * MIN), createdById: olive.id, createdByLogin: olive.githubLogin });
      await t.deps.db.appServerStep.create({ data: { appServerId: busy.id, name: "wait-vm", position: 3, startedAt: ago(5 * MIN) } });
      // Never launched.
      await makeInstance(t.deps, { name: "Quiet School" });
      // Deliberate states, not problems: a launch cancelled by a person; none active in maintenance or in a PR sandbox.
      const halted = await makeInstance(t.deps, { name: "Halted Tech" });
      await makeAppServer(t.deps, halted.id, { status: "running", isActive: true, createdAt: ago(3 * DAY), statusChangedAt: ago(3 * DAY) });
      const cancelled = await makeAppServer(t.deps, halted.id, { status: "failed", createdAt: ago(2 * DAY), statusChangedAt: ago(2 * DAY), failureSummary: "Cancelled by olive." });
      await t.deps.db.appServerStep.create({ data: { appServerId: cancelled.id, name: "tail", position: 7, startedAt: ago(2 * DAY), endedAt: ago(2 * DAY), outcome: "cancelled" } });
      await makeInstance(t.deps, { name: "Mending Museum", maintenanceSince: ago(DAY), maintenanceBy: "olive" });
      await makeInstance(t.deps, { name: "Pr Sandbox", pullRequestUrl: "https://github.com/o/r/pull/9", pullRequestNumber: 9 });
      // Archived ones are not the fleet's concern.
      const archived = await makeInstance(t.deps, { name: "Archived Place", isArchived: true });
      await makeAppServer(t.deps, archived.id, { status: "failed", createdAt: ago(10 * MIN), statusChangedAt: ago(9 * MIN), createdByLogin: "ocim" });
      // Cleanup due today: an old failed appserver of an instance that serves from another.
      const old = await makeInstance(t.deps, { name: "Old Labs" });
      await makeAppServer(t.deps, old.id, { status: "failed", createdAt: ago(8 * DAY), statusChangedAt: ago(8 * DAY) });
      await makeAppServer(t.deps, old.id, { status: "running", isActive: true, createdAt: ago(7 * DAY), statusChangedAt: ago(7 * DAY) });
      // A balancer whose newest configuration is not deployed, and one that is.
      await t.deps.db.loadBalancer.create({ data: { name: "lb-behind", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: "behind", configurationVersion: 5, deployedVersion: 4, lastError: "haproxy -c failed: line 12" } });
      await t.deps.db.loadBalancer.create({ data: { name: "lb-fine", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: "fine", configurationVersion: 3, deployedVersion: 3 } });
      // Certificates: one expiring in 10 days, one in 60.
      await t.deps.db.instanceCertificate.create({ data: { instanceId: broken.id, certificatePem: "pem", notAfter: new Date(NOW.getTime() + 10 * DAY), lastError: "rate limited" } });
      await t.deps.db.instanceCertificate.create({ data: { instanceId: recovered.id, certificatePem: "pem", notAfter: new Date(NOW.getTime() + 60 * DAY) } });
    });

    it("shows the failing appservers with where they stopped and how long they ran", async () => {
      const html = (await operator.get("/")).text;
      expect(panel(html, "fleet-failing")).toBe(
        'Failing 1 AppServer Stopped at Ran for Failed Broken Academy · AppServer 2 failed Task "Install edxapp" failed: exit 2 step 7 of 9: Run the playbook (its log, live) 25 min 00 s 35 min ago');
      expect(html).toMatch(/<a href="\/appservers\/\d+">Broken Academy · AppServer 2<\/a>/);
    });

    it("keeps deliberate states out of the problem panels and out of the list's same filters", async () => {
      const html = (await operator.get("/")).text;
      expect(panel(html, "fleet-failing")).not.toContain("Halted Tech");
      for (const name of ["Mending Museum", "Pr Sandbox"]) expect(panel(html, "fleet-no-active")).not.toContain(name);
      expect(panel(html, "fleet-no-active")).toContain("Instances in maintenance and pull requests' sandboxes are not listed: they may have none on purpose.");
      const failing = await listInstances(t.deps, { state: "failing", limit: 50 });
      expect(failing.rows.map((r) => r.name)).toEqual(["Broken Academy"]);
      const noActive = await listInstances(t.deps, { state: "no-active", limit: 50 });
      expect(noActive.rows.map((r) => r.name)).toEqual(["fresh institute", "Quiet School"]);
    });

    it("shows what is provisioning, its step, the time so far and who launched it", async () => {
      expect(panel((await operator.get("/")).text, "fleet-provisioning")).toBe(
        "Provisioning 1 AppServer Step Elapsed Launched by fresh institute · AppServer 1 waiting Step 3 of 9: Wait for the VM to answer on SSH and cloud-init to finish 7 min 00 s olive");
    });

    it("lists the instances with no active appserver, by name whatever the case, with their newest appserver", async () => {
      const text = panel((await operator.get("/")).text, "fleet-no-active");
      expect(text).toContain("No active appserver 2");
      expect(text).toMatch(/fresh institute \S+ waiting Quiet School \S+ never launched$/);
    });

    it("lists recent launches across the fleet, newest first, with who launched them and how long they took", async () => {
      const text = panel((await operator.get("/")).text, "fleet-launches");
      expect(text).toMatch(new RegExp("^Recent launches AppServer Launched By Took fresh institute · AppServer 1 waiting 7 min ago olive 7 min 00 s so far " +
        "Archived Place · AppServer 1 failed 10 min ago ocim 1 min 00 s Broken Academy · AppServer 2 failed 1 h ago olive 25 min 00 s "));
    });

    it("shows the balancers not in sync, the certificates expiring and the cleanup due today", async () => {
      const html = (await operator.get("/")).text;
      expect(panel(html, "fleet-balancers")).toBe("Balancers not in sync 1 lb-behind · version 4 deployed, 5 wanted haproxy -c failed: line 12");
      expect(panel(html, "fleet-certificates")).toContain("Certificates expiring 1");
      expect(panel(html, "fleet-certificates")).toContain("Broken Academy expires 2026-12-11 12:00 UTC rate limited");
      expect(panel(html, "fleet-cleanup")).toContain("Cleanup due today 1");
      expect(panel(html, "fleet-cleanup")).toContain("Old Labs · AppServer 1 failed failed more than 7 days ago");
      // Tomorrow, Broken Academy's active appserver is still kept (active), nothing else comes due.
      expect(html).toContain('href="/cleanup"');
    });

    it("counts what it does not list and links to all of them", async () => {
      const extra = [];
      for (let i = 0; i < 11; i++) extra.push((await makeInstance(t.deps, { name: `Zz Idle ${String(i).padStart(2, "0")}` })).id);
      const html = (await operator.get("/")).text;
      expect(panel(html, "fleet-no-active")).toContain("No active appserver 13");
      expect(panel(html, "fleet-no-active")).toContain("3 more instances without an active appserver");
      expect(html).toContain('<a href="/?state=no-active">3 more instances without an active appserver</a>');
      await t.deps.db.instance.deleteMany({ where: { id: { in: extra } } });
    });
  });

  describe("a launch cancelled while still queued", () => {
    it("is not failing: not in the Failing panel or its count, not in the list's failing filter, and its page says it was cancelled", async () => {
      const before = panel((await operator.get("/")).text, "fleet-failing");
      const inst = await makeInstance(t.deps, { name: "Queued Cancel" });
      const queued = await launchAppServer(t.deps, { instanceId: inst.id, actor: { id: null, login: "olive" } });
      // No worker runs here: the launch is still queued, before its first step and before any VM.
      expect(await t.deps.db.appServerStep.count({ where: { appServerId: queued.id } })).toBe(0);
      await cancelAppServer(t.deps, { appServerId: queued.id, actor: { id: null, login: "olive" } });
      expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: queued.id } })).status).toBe("error");
      const html = (await operator.get("/")).text;
      // The same panel as before the launch: the same count in its badge, the same rows.
      expect(panel(html, "fleet-failing")).toBe(before);
      const failing = await listInstances(t.deps, { state: "failing", limit: 50 });
      expect(failing.rows.map((r) => r.name)).not.toContain("Queued Cancel");
      const page = visibleText((await operator.get(`/appservers/${queued.id}`)).text);
      expect(page).toContain("Provisioning was cancelled");
      expect(page).not.toContain("The VM never came up");
    });
  });

  describe("the ssh command on the appserver page", () => {
    let instanceId: number;
    beforeAll(async () => {
      instanceId = (await makeInstance(t.deps, { name: "Ssh Site" })).id;
    });

    const sshRow = async (id: number) => visibleText((await operator.get(`/appservers/${id}`)).text.match(/<dt>SSH<\/dt>([\s\S]*?)<\/dd>/)![1]!);

    it("says why there is none until the VM has an address, the keys are fetched and the appserver synced", async () => {
      const booting = await makeAppServer(t.deps, instanceId, { status: "waiting", vmStatus: "booting" });
      expect(await sshRow(booting.id)).toContain("The VM has no IP address yet");
      const configuring = await makeAppServer(t.deps, instanceId, { status: "configuring", vmStatus: "ready", publicIp: "10.9.0.4", sshPort: 22 });
      expect(await sshRow(configuring.id)).toContain("makes accounts on running and failed appservers; this one is configuring");
      const failed = await makeAppServer(t.deps, instanceId, { status: "failed", vmStatus: "ready", publicIp: "10.9.0.5", sshPort: 2222 });
      await t.deps.redis.del(fetchStatusKey(t.deps.config.QUEUE_PREFIX));
      expect(await sshRow(failed.id)).toContain("The organization's keys have not been fetched from GitHub yet: the SSH-access sync runs every 15 minutes.");
      await t.deps.redis.hset(fetchStatusKey(t.deps.config.QUEUE_PREFIX), { okAt: ago(3 * MIN).toISOString() });
      expect(await sshRow(failed.id)).toContain("You have no SSH key on GitHub (as of 2026-12-01 11:57 UTC). Add one at github.com/settings/keys");
      // GitHub logins ignore case: a key fetched as "Olive" is the user olive's.
      await t.deps.db.githubKey.create({ data: { githubLogin: "Olive", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOlive olive", fingerprint: "SHA256:olive" } });
      await t.deps.redis.hdel(syncedKey(t.deps.config.QUEUE_PREFIX), String(failed.id));
      expect(await sshRow(failed.id)).toContain(`Not synced yet: the SSH-access sync (every 15 minutes) has not reached this appserver, so your account ${accountName("", "olive")} is not on it.`);
      await t.deps.redis.hset(syncedKey(t.deps.config.QUEUE_PREFIX), String(failed.id), ago(2 * MIN).toISOString());
      expect(await sshRow(failed.id)).toBe("ssh -p 2222 olive@10.9.0.5 · your account, with sudo; synced 2 min ago");
      const gone = await makeAppServer(t.deps, instanceId, { status: "terminated", vmStatus: "terminated", publicIp: "10.9.0.6" });
      expect(await sshRow(gone.id)).toContain("The VM was deleted");
      await t.deps.redis.hdel(syncedKey(t.deps.config.QUEUE_PREFIX), String(failed.id));
    });
  });

  describe("relaunch and what changed", () => {
    it("relaunches a failed appserver with the instance's current settings, once per form, audited", async () => {
      const inst = await makeInstance(t.deps, { name: "Relaunch Site", extraAnsibleVars: "DEMO_FAIL: true\n" });
      const first = await launchAppServer(t.deps, { instanceId: inst.id, actor: { id: null, login: "test" } });
      await t.deps.db.appServer.update({ where: { id: first.id }, data: { status: "failed" } });
      await t.deps.db.instance.update({ where: { id: inst.id }, data: { extraAnsibleVars: "DEMO_FAIL: false\n" } });
      const page = await operator.get(`/appservers/${first.id}`);
      expect(visibleText(page.text)).toContain("Relaunch… Launch a new appserver of Relaunch Site with the instance's current settings");
      const token = page.text.match(/name="launchToken" value="([^"]+)"/)![1]!;
      const csrf = page.text.match(/name="_csrf" value="([^"]+)"/)![1]!;
      const sent = await operator.post(`/appservers/${first.id}/relaunch`, { _csrf: csrf, launchToken: token }, { follow: false });
      expect(sent.status).toBe(303);
      const second = await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: inst.id, number: 2 } });
      expect(sent.headers.get("location")).toBe(`/instances/${second.instanceId}/appservers/${second.number}`);
      expect((second.configSnapshot as { variables: Record<string, unknown> }).variables.DEMO_FAIL).toBe(false);
      // The same form sent again launches nothing more.
      await operator.post(`/appservers/${first.id}/relaunch`, { _csrf: csrf, launchToken: token });
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(2);
      const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "appserver.launched", subjectId: String(inst.id) }, orderBy: { id: "desc" } });
      expect(audit).toMatchObject({ actorLogin: "olive", diff: { appServer: [null, "AppServer 2"], relaunchOf: [null, "AppServer 1"], relaunchOfId: [null, first.id] } });
      // A running (or provisioning) appserver is not relaunched: said on its page, nothing launched.
      const refused = await operator.post(`/appservers/${second.id}/relaunch`, { _csrf: csrf, launchToken: "another-token-0123456789" });
      expect(visibleText(refused.text)).toContain("Only a failed appserver is relaunched, and AppServer 2 is new.");
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(2);
      expect(visibleText((await operator.get(`/appservers/${second.id}`)).text)).not.toContain("Relaunch…");
    });

    it("refuses a second person's relaunch of an appserver relaunched already, naming the relaunch", async () => {
      const inst = await makeInstance(t.deps, { name: "Twice Site" });
      const first = await launchAppServer(t.deps, { instanceId: inst.id, actor: { id: null, login: "test" } });
      await t.deps.db.appServer.update({ where: { id: first.id }, data: { status: "failed" } });
      // Both have the page open, each with its own form; the colleague relaunches first.
      const colleague = await t.loginAs("colin");
      const [mine, theirs] = [await operator.get(`/appservers/${first.id}`), await colleague.get(`/appservers/${first.id}`)];
      const form = (html: string) => ({
        _csrf: html.match(/name="_csrf" value="([^"]+)"/)![1]!, launchToken: html.match(/name="launchToken" value="([^"]+)"/)![1]!,
      });
      await colleague.post(`/appservers/${first.id}/relaunch`, form(theirs.text));
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(2);
      const refused = await operator.post(`/appservers/${first.id}/relaunch`, form(mine.text));
      expect(visibleText(refused.text)).toMatch(
        /AppServer 1 was relaunched already, as AppServer 2 \(new\) by colin at \d{4}-\d\d-\d\d \d\d:\d\d UTC; nothing was launched\. Relaunch AppServer 2 if it fails too\./,
      );
      expect(await t.deps.db.appServer.count({ where: { instanceId: inst.id } })).toBe(2);
      // The colleague's own form sent again still answers with its appserver.
      const replayed = await colleague.post(`/appservers/${first.id}/relaunch`, form(theirs.text));
      expect(visibleText(replayed.text)).toContain("This form had already relaunched as AppServer 2; it was not launched a second time.");
    });

    it("shows what changed against the instance now and against the appserver before, secrets masked", async () => {
      const inst = await makeInstance(t.deps, { name: "Diff Site", extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Before\nEDXAPP_EMAIL_HOST_PASSWORD: old-secret-1\n" });
      const actor = { id: null, login: "test" };
      const one = await launchAppServer(t.deps, { instanceId: inst.id, actor });
      await t.deps.db.instance.update({ where: { id: inst.id }, data: { extraAnsibleVars: "EDXAPP_PLATFORM_NAME: After\nEDXAPP_EMAIL_HOST_PASSWORD: new-secret-2\nDEMO_NEW: 1\n" } });
      const now = await operator.get(`/appservers/${one.id}/diff`);
      expect(now.status).toBe(200);
      const text = visibleText(now.text);
      expect(text).toContain("Variable Change AppServer 1 (frozen) The instance now");
      expect(text).toContain("DEMO_NEW added — 1");
      expect(text).toContain("EDXAPP_PLATFORM_NAME changed Before After");
      expect(text).toMatch(/EDXAPP_EMAIL_HOST_PASSWORD changed \S+ \(changed\)|EDXAPP_EMAIL_HOST_PASSWORD changed ••••••/);
      expect(now.text).not.toContain("old-secret-1");
      expect(now.text).not.toContain("new-secret-2");
      // The hostname is the appserver's own: not reported as a change.
      expect(text).not.toContain("COMMON_HOSTNAME");
      expect(visibleText((await operator.get(`/appservers/${one.id}/diff?against=previous`)).text)).toContain("AppServer 1 is the first appserver of Diff Site: there is none before it to compare with.");
      const two = await launchAppServer(t.deps, { instanceId: inst.id, actor });
      const previous = visibleText((await operator.get(`/appservers/${two.id}/diff?against=previous`)).text);
      expect(previous).toMatch(/From AppServer 1 ?'s frozen configuration to AppServer 2's\./);
      expect(previous).toContain("EDXAPP_PLATFORM_NAME changed Before After");
      // The first one's frozen configuration is unchanged by the edit and the second launch.
      expect(visibleText((await operator.get(`/appservers/${one.id}`)).text)).toContain("EDXAPP_PLATFORM_NAME: Before");
      expect(visibleText((await operator.get(`/appservers/${two.id}/diff`)).text)).toContain("The instance's current settings would launch the same recipe, playbook and variables.");
      const bad = await operator.get(`/appservers/${two.id}/diff?against=yesterday`);
      expect(bad.status).toBe(400);
      expect(visibleText(bad.text)).toContain("against: instance or previous");
    });
  });
});
