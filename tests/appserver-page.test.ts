// The appserver page and API detail: where provisioning is, the authenticated link (password for
// admins only), the frozen configuration with secrets masked, and the actions that fit the status.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { getAppServerDetail } from "../src/domain/appservers/get-appserver-detail.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { deleteUser } from "../src/domain/users/delete-user.js";

describe("the appserver page", () => {
  let t: TestApp;
  let admin: Agent;
  let operator: Agent;
  let instance: Awaited<ReturnType<typeof makeInstance>>;
  let password: string;
  let user: string;
  // The page computes "so far" from deps.now: a test that reads durations fixes the clock.
  let clock: Date | null = null;

  beforeAll(async () => {
    t = await startTestApp({}, { now: () => clock ?? new Date() });
    admin = await t.loginAs("ann", { admin: true });
    operator = await t.loginAs("otis");
    instance = await makeInstance(t.deps, { extraAnsibleVars: "EDXAPP_LMS_NGINX_PORT: 8000\nEDXAPP_EMAIL_HOST_PASSWORD: mail-secret-123\n" });
    ({ user, password } = basicAuthFor(t.deps.secrets, instance));
  });
  afterAll(() => t.close());

  async function launched(data: Record<string, unknown>) {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } });
    return t.deps.db.appServer.update({ where: { id: as.id }, data });
  }

  it("shows a running appserver's authenticated link with its password to admins only", async () => {
    const as = await launched({ status: "running", vmStatus: "ready", publicIp: "127.0.0.9" });
    const adminText = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(adminText).toContain(`Authenticated link http://${user}:${password}@127.0.0.9:8000/`);
    expect(adminText).toContain("Step All steps done: running");
    const opPage = (await operator.get(`/appservers/${as.id}`)).text;
    expect(visibleText(opPage)).toContain(`Authenticated link http://${user}:••••••@127.0.0.9:8000/ (the password is shown to admins)`);
    expect(opPage).not.toContain(password);
    for (const label of ["Activate and deactivate the others", "Activate", "Terminate…"]) expect(visibleText(opPage)).toContain(label);
    expect(visibleText(opPage)).not.toContain("Cancel provisioning");
  });

  it("shows the frozen configuration with secrets masked, even after the instance changes", async () => {
    const as = await launched({ status: "failed", failureSummary: 'Task "x" failed: boom' });
    await t.deps.db.instance.update({ where: { id: instance.id }, data: { edxPlatformBranch: "changed-later" } });
    const text = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(text).toContain('Why it stopped: Task "x" failed: boom');
    expect(text).toContain("COMMON_HTPASSWD_PASS: ••••••");
    expect(text).toContain("EDXAPP_EMAIL_HOST_PASSWORD: ••••••");
    expect(text).toContain("EDX_PLATFORM_VERSION: master");
    expect(text).not.toContain("mail-secret-123");
    expect(text).not.toContain("changed-later");
    // In name order, so an operator finds one among ~150.
    const html = (await admin.get(`/appservers/${as.id}`)).text;
    const block = /<pre class="value-block mono">([\s\S]*?)<\/pre>/.exec(html)![1]!;
    const shown = block.split("\n").map((line) => /^([^\s:]+):/.exec(line)?.[1]).filter((n) => n !== undefined);
    expect(shown.length).toBeGreaterThan(10);
    expect(shown).toEqual([...shown].sort());
  });

  it("says a terminated appserver has no authenticated link any more, nor an address", async () => {
    const as = await launched({ status: "terminated", vmStatus: "ready", publicIp: "127.0.0.9", terminatedAt: new Date() });
    const text = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(text).toContain("IP address released");
    expect(text).toContain("Authenticated link none: the appserver is terminated");
    expect(text).not.toContain("when the VM has an address");
    // The admin keeps the stored address, so a search by IP finds it, and says it is no longer this VM's.
    const list = visibleText((await admin.get("/admin/app-servers?q=127.0.0.9")).text);
    expect(list).toContain("127.0.0.9 (released)");
    expect(visibleText((await admin.get(`/admin/app-servers/${as.id}`)).text)).toContain("Public IP 127.0.0.9 (released)");
  });

  it("says a frozen configuration cannot be read on each appserver that has it, and still offers Terminate", async () => {
    const broken = { version: 2, recipe: "tutor", playbook: "not an object" };
    const shown: string[] = [];
    for (let i = 0; i < 2; i++) {
      const as = await launched({ status: "failed" });
      await t.deps.db.appServer.update({ where: { id: as.id }, data: { configSnapshot: broken } });
      const text = visibleText((await admin.get(`/appservers/${as.id}`)).text);
      expect(text).toContain(`The frozen configuration of ${as.name} cannot be read (`);
      expect(text).toContain("Terminate…");
      // Its port is in the snapshot: the page says why there is no link rather than waiting for an address.
      expect(text).toContain("Authenticated link not known: the launch's settings cannot be read");
      shown.push(as.name);
    }
    // The same stored snapshot twice: the second page names its own appserver, not the first.
    expect(new Set(shown).size).toBe(2);
  });

  it("answers 404 for an appserver deleted between reading its row and its frozen configuration", async () => {
    const as = await launched({ status: "failed" });
    // A snapshot of its own: one whose view is already kept would not be read again.
    const own = { ...(as.configSnapshot as Record<string, unknown>), launchedAt: "2026-11-30T12:34:56.789Z" };
    await t.deps.db.appServer.update({ where: { id: as.id }, data: { configSnapshot: own } });
    // Its instance's deletion lands just before the page reads the snapshot (the page's one other read).
    const db = new Proxy(t.deps.db, {
      get(target, prop, receiver) {
        if (prop !== "appServer") return Reflect.get(target, prop, receiver);
        return {
          findUnique: async (args: Parameters<typeof target.appServer.findUnique>[0]) => {
            await target.appServer.delete({ where: { id: as.id } });
            return target.appServer.findUnique(args);
          },
        };
      },
    });
    const ann = { id: 1, githubLogin: "ann", name: "", avatarUrl: "", role: "admin" as const };
    await expect(getAppServerDetail({ ...t.deps, db }, { appServerId: as.id, user: ann, logTail: 10 }))
      .rejects.toMatchObject({ code: "not_found", message: "AppServer not found." });
    // As the page says it once the deletion is done.
    expect((await admin.get(`/appservers/${as.id}`)).status).toBe(404);
  });

  it("shows the branches and domain the appserver was launched with, not its bootstrap command's secrets", async () => {
    const now = await t.deps.db.instance.update({ where: { id: instance.id }, data: { bootstrapCommand: "curl -H 'token: boot-secret-77' https://example.com/x | sh" } });
    const as = await launched({ status: "running" });
    const text = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(text).toContain(`edx-platform ${now.edxPlatformRepoUrl} @ ${now.edxPlatformBranch} LMS domain ${now.internalLmsDomain}`);
    expect(text).not.toContain("boot-secret-77");
  });

  it("cancels a provisioning appserver from its page", async () => {
    const as = await launched({ status: "configuring", vmStatus: "ready" });
    const page = visibleText((await operator.get(`/appservers/${as.id}`)).text);
    expect(page).toContain("Cancel provisioning");
    expect(page).not.toContain("Terminate…");
    const res = await operator.submit(`/appservers/${as.id}/cancel`, {}, `/appservers/${as.id}`);
    expect(visibleText(res.text)).toContain("Provisioning was cancelled");
    const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    expect(row).toMatchObject({ status: "failed", failureSummary: "Cancelled by otis." });
    const again = await operator.submit(`/appservers/${as.id}/cancel`, {}, `/appservers/${as.id}`);
    // A page opened before it finished still offered Cancel: the refusal is told on the appserver's page.
    expect(again.status).toBe(200);
    expect(new URL(again.url).pathname).toBe(`/instances/${instance.id}/appservers/${as.number}`);
    expect(visibleText(again.text)).toContain(`${as.name} is not being provisioned (it is failed); there is nothing to cancel.`);
  });

  it("says a cancel during the wait for /heartbeat stops only that wait: the playbook had finished", async () => {
    const as = await launched({ status: "configuring", vmStatus: "ready" });
    const start = new Date();
    await t.deps.db.appServerStep.createMany({
      data: [
        { appServerId: as.id, name: "finish", position: 8, startedAt: start, endedAt: start, outcome: "done" },
        { appServerId: as.id, name: "wait-heartbeat", position: 9, startedAt: start },
      ],
    });
    const res = await operator.submit(`/appservers/${as.id}/cancel`, {}, `/appservers/${as.id}`);
    const text = visibleText(res.text);
    expect(text).toContain("Provisioning was cancelled; the playbook had already finished, so only the wait for /heartbeat is stopped.");
    expect(text).not.toContain("the playbook is being stopped");
  });

  it("shows step N of M and each step's duration, the current one so far, and where a cancelled one stopped", async () => {
    const t0 = Date.parse("2026-12-01T10:00:00Z");
    const at = (s: number) => new Date(t0 + s * 1000);
    const as = await launched({ status: "configuring", vmStatus: "ready" });
    await t.deps.db.appServerStep.createMany({
      data: [
        { appServerId: as.id, name: "prepare-data", position: 1, startedAt: at(0), endedAt: at(0), outcome: "done" },
        { appServerId: as.id, name: "create-vm", position: 2, startedAt: at(0), endedAt: at(4), outcome: "done" },
        { appServerId: as.id, name: "wait-vm", position: 3, startedAt: at(4), endedAt: at(76), outcome: "done" },
        { appServerId: as.id, name: "upload-vars", position: 4, startedAt: at(76), endedAt: at(77), outcome: "done" },
        { appServerId: as.id, name: "clone", position: 5, startedAt: at(77), endedAt: at(89), outcome: "done" },
        { appServerId: as.id, name: "start-playbook", position: 6, startedAt: at(89), endedAt: at(90), outcome: "done" },
        { appServerId: as.id, name: "tail", position: 7, startedAt: at(90) },
      ],
    });
    clock = at(90 + 185);
    try {
      const page = visibleText((await operator.get(`/appservers/${as.id}`)).text);
      expect(page).toContain("Step Step 7 of 9: Run the playbook (its log, live)");
      expect(page).toContain("Prepare the instance's databases and storage · 0 ms");
      expect(page).toContain("Create the VM · 4 s");
      expect(page).toContain("Wait for the VM to answer on SSH and cloud-init to finish · 1 min 12 s");
      expect(page).toContain("Clone the configuration repository (or upload the playbook shipped with Ocim) · 12 s");
      expect(page).toContain("Run the playbook (its log, live) · 3 min 05 s so far");
      expect(page).toContain("Read the playbook's exit code · not started");
      expect(page).toContain("Wait for /heartbeat to answer 200 · not started");
      const cancelled = await operator.submit(`/appservers/${as.id}/cancel`, {}, `/appservers/${as.id}`);
      expect(visibleText(cancelled.text)).toContain("Provisioning was cancelled; the playbook is being stopped. The VM is kept for debugging.");
      const after = visibleText((await operator.get(`/appservers/${as.id}`)).text);
      expect(after).toContain("Provisioning was cancelled (at step 7 of 9: Run the playbook (its log, live))");
      expect(after).toContain("Run the playbook (its log, live) · cancelled after 3 min 05 s");
    } finally {
      clock = null;
    }
  });

  it("says how long provisioning took as the steps do: seconds, minutes, then hours", async () => {
    const cases: [number, string][] = [[3, "3 s to finish"], [4 * 60 + 5, "4 min 05 s to finish"], [62 * 60 + 5, "1 h 02 min to finish"]];
    for (const [seconds, shown] of cases) {
      const as = await launched({ status: "failed" });
      await t.deps.db.appServerStep.create({
        data: { appServerId: as.id, name: "prepare-data", position: 1, startedAt: as.createdAt, endedAt: new Date(as.createdAt.getTime() + seconds * 1000), outcome: "failed" },
      });
      const page = visibleText((await admin.get(`/appservers/${as.id}`)).text);
      expect(page).toMatch(new RegExp(`Launched \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC by ocim · ${shown}`));
    }
  });

  it("says who launched an appserver after that user is deleted, and ocim for Ocim's own launches", async () => {
    await t.loginAs("pia");
    const pia = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "pia" } });
    const byPia = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: pia.id, login: "pia" } });
    const byOcim = await launched({});
    await deleteUser(t.deps, { actor: { id: null, login: "root" }, ids: [pia.id] });

    expect(visibleText((await admin.get(`/appservers/${byPia.id}`)).text)).toMatch(/Launched \S+ \S+ UTC by pia ·/);
    expect(visibleText((await admin.get(`/appservers/${byOcim.id}`)).text)).toMatch(/Launched \S+ \S+ UTC by ocim ·/);
    const rows = visibleText((await admin.get(`/instances/${instance.id}`)).text);
    expect(rows).toMatch(new RegExp(`${byPia.name} new .* just now pia`));
    expect(rows).toMatch(new RegExp(`${byOcim.name} new .* just now ocim`));
    expect(visibleText((await admin.get(`/admin/app-servers/${byPia.id}`)).text)).toContain("Launched by pia");
  });

  it("answers unknown appservers with the 404 page", async () => {
    expect((await operator.get("/appservers/999999")).status).toBe(404);
    expect((await operator.get("/appservers/abc")).status).toBe(404);
  });

  it("gives the authenticated link in the API to admins' tokens only", async () => {
    const as = await launched({ status: "running", publicIp: "127.0.0.9" });
    const adminToken = (await createApiToken(t.deps, { githubLogin: "ann", actor: { id: null, login: "t" } })).token;
    const opToken = (await createApiToken(t.deps, { githubLogin: "otis", actor: { id: null, login: "t" } })).token;
    const get = async (token: string) => (await t.agent().get(`/api/v1/appservers/${as.id}`, { headers: { authorization: `Bearer ${token}` } })).json<Record<string, unknown>>();
    const forAdmin = await get(adminToken);
    expect(forAdmin).toMatchObject({ id: as.id, status: "running", vmStatus: "pending", publicIp: "127.0.0.9", isActive: false, failureSummary: "" });
    expect(forAdmin.authenticatedLink).toBe(`http://${user}:${password}@127.0.0.9:8000/`);
    const forOperator = await get(opToken);
    expect(forOperator.authenticatedLink).toBeNull();
    expect(JSON.stringify(forOperator)).not.toContain(password);
  });
});
