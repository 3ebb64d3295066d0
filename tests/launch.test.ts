// Launching from the instance page and from the API: a new appserver with a frozen snapshot and a
// queued provisioning job carrying only its id; bad requests change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { QUEUE } from "../src/jobs/names.js";
import { drainOutbox } from "../src/jobs/relay-outbox.js";

describe("launching an appserver", () => {
  let t: TestApp;
  let operator: Agent;
  let auth: { headers: Record<string, string> };
  // Launch keys expire by the injected clock; tests move it instead of waiting a day.
  let clock = new Date("2026-11-30T12:00:00Z");
  beforeAll(async () => {
    t = await startTestApp({}, { now: () => clock });
    operator = await t.loginAs("olivia");
    const { token } = await createApiToken(t.deps, { githubLogin: "olivia", actor: { id: null, login: "test" } });
    auth = { headers: { authorization: `Bearer ${token}` } };
  });
  afterAll(() => t.close());

  const count = (instanceId: number) => t.deps.db.appServer.count({ where: { instanceId } });

  it("launches from the instance page's button and goes to the new appserver", async () => {
    const inst = await makeInstance(t.deps);
    const page = await operator.get(`/instances/${inst.id}`);
    expect(visibleText(page.text)).toContain("Launch new AppServer");
    expect(page.text).toContain(`action="/instances/${inst.id}/launch"`);
    const res = await operator.request("POST", `/instances/${inst.id}/launch`, { form: { _csrf: await operator.csrf(`/instances/${inst.id}`) }, follow: false });
    expect(res.status).toBe(303);
    const as = await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: inst.id } });
    expect(res.headers.get("location")).toBe(`/instances/${inst.id}/appservers/1`);
    expect(as).toMatchObject({ name: "AppServer 1", status: "new" });
    const user = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "olivia" } });
    expect(as).toMatchObject({ createdById: user.id, createdByLogin: "olivia" });
    // The provisioning is queued in the launch's transaction (the outbox); a worker's relay sends it.
    const queued = await t.deps.db.outboxMessage.findMany({ where: { sentAt: null }, select: { kind: true, payload: true } });
    expect(queued).toContainEqual({ kind: "provision-appserver", payload: { appServerId: as.id } });
    await drainOutbox(t.deps);
    const job = await t.deps.jobs.queue(QUEUE.provisioning).getJob(`provision-${as.id}`);
    expect(job?.data).toEqual({ appServerId: as.id });
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "appserver.launched", subjectId: String(inst.id) } });
    expect(audit.actorLogin).toBe("olivia");
  });

  it("refuses a launch without the form's security token, and launches nothing", async () => {
    const inst = await makeInstance(t.deps);
    const res = await operator.post(`/instances/${inst.id}/launch`, {});
    expect(res.status).toBe(403);
    expect(await count(inst.id)).toBe(0);
  });

  it("refuses to launch for an archived instance with a message that says what to do", async () => {
    const inst = await makeInstance(t.deps, { isArchived: true });
    const page = await operator.get(`/instances/${inst.id}`);
    expect(page.text).not.toContain(`action="/instances/${inst.id}/launch"`);
    const res = await operator.submit(`/instances/${inst.id}/launch`, {}, `/instances/${inst.id}`);
    expect(res.status).toBe(409);
    expect(visibleText(res.text)).toContain("This instance is archived; unarchive it in the admin before launching an appserver.");
    expect(await count(inst.id)).toBe(0);
  });

  it("refuses to launch when a data service of the instance cannot be read, naming it, and launches nothing", async () => {
    const storage = await t.deps.db.dataService.create({
      data: { name: "broken-storage", kind: "s3", settings: { endpoint: "http://s3.test:9000" }, credentialsEncrypted: t.deps.secrets.encrypt("{}") },
    });
    const inst = await makeInstance(t.deps, { storageServiceId: storage.id });
    const res = await operator.submit(`/instances/${inst.id}/launch`, {}, `/instances/${inst.id}`);
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain('The storage account "broken-storage" of this instance has no readable access keys; fix it in the admin (Data services), then launch again.');
    expect(await count(inst.id)).toBe(0);
  });

  it("refuses to launch an instance whose extra variables (saved before the check) override the basic auth, and launches nothing", async () => {
    // The appserver would answer its own password and 401 to the one the heartbeat wait, the balancer and the link send.
    const inst = await makeInstance(t.deps, { extraAnsibleVars: "COMMON_HTPASSWD_PASS: override123\n" });
    const page = await operator.submit(`/instances/${inst.id}/launch`, {}, `/instances/${inst.id}`);
    expect(page.status).toBe(400);
    const message = "COMMON_HTPASSWD_PASS is set by Ocim: the basic-auth login of every appserver comes from the instance's key, and Ocim's health checks, " +
      "the load balancer and the authenticated link send it. Remove it from the instance's extra ansible variables in the admin, then launch again.";
    expect(visibleText(page.text)).toContain(message);
    const api = await t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { ...auth, json: {} });
    expect(api.status).toBe(400);
    expect(api.json<{ error: { message: string } }>().error.message).toBe(message);
    expect(await count(inst.id)).toBe(0);
  });

  it("launches through the API with a token: 202 and the new appserver", async () => {
    const inst = await makeInstance(t.deps);
    const client = t.agent();
    const res = await client.request("POST", `/api/v1/instances/${inst.id}/appservers`, { ...auth, json: {} });
    expect(res.status).toBe(202);
    const body = res.json<{ id: number; status: string; name: string }>();
    expect(body).toMatchObject({ status: "new", name: "AppServer 1" });
    expect(res.headers.get("location")).toBe(`/api/v1/appservers/${body.id}`);
  });

  it("answers bad API launches with clear errors and launches nothing", async () => {
    const inst = await makeInstance(t.deps);
    const client = t.agent();
    const noToken = await client.request("POST", `/api/v1/instances/${inst.id}/appservers`, { json: {} });
    expect(noToken.status).toBe(401);
    const extra = await client.request("POST", `/api/v1/instances/${inst.id}/appservers`, { ...auth, json: { status: "running" } });
    expect(extra.status).toBe(400);
    expect(extra.json<{ error: { message: string } }>().error.message).toBe("Invalid request body: unknown field(s) status.");
    const unknown = await client.request("POST", "/api/v1/instances/999999/appservers", { ...auth, json: {} });
    expect(unknown.status).toBe(404);
    expect(await count(inst.id)).toBe(0);
  });

  const launchTokenOf = (html: string) => html.match(/name="launchToken" value="([^"]+)"/)?.[1];

  it("launches once when the same launch form is submitted twice (a double click)", async () => {
    const inst = await makeInstance(t.deps);
    const page = await operator.get(`/instances/${inst.id}`);
    const form = { _csrf: await operator.csrf(`/instances/${inst.id}`), launchToken: launchTokenOf(page.text)! };
    expect(form.launchToken).toBeTruthy();
    const [first, second] = await Promise.all([0, 1].map(() => operator.request("POST", `/instances/${inst.id}/launch`, { form, follow: false })));
    const again = await operator.request("POST", `/instances/${inst.id}/launch`, { form, follow: false });
    expect(await count(inst.id)).toBe(1);
    const as = await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: inst.id } });
    for (const res of [first!, second!, again]) {
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe(`/instances/${inst.id}/appservers/1`);
    }
    expect(visibleText((await operator.get(`/appservers/${as.id}`)).text)).toContain("This form had already launched AppServer 1; it was not launched a second time.");
    // A fresh page view is a new form: it launches again.
    const next = await operator.get(`/instances/${inst.id}`);
    expect(launchTokenOf(next.text)).not.toBe(form.launchToken);
    await operator.post(`/instances/${inst.id}/launch`, { _csrf: form._csrf, launchToken: launchTokenOf(next.text)! });
    expect(await count(inst.id)).toBe(2);
  });

  it("numbers a launch one past the instance's highest appserver, gives parallel launches distinct numbers, and leaves the instance row as it was", async () => {
    const inst = await makeInstance(t.deps);
    await makeAppServer(t.deps, inst.id, { status: "terminated" });
    await makeAppServer(t.deps, inst.id, { status: "failed" });
    // The first launch makes the instance's JWT key (ensureJwtKey); launches after it write nothing to the row.
    await launchAppServer(t.deps, { instanceId: inst.id, actor: { id: null, login: "test" } });
    const before = await t.deps.db.instance.findUniqueOrThrow({ where: { id: inst.id } });
    const version = () => t.deps.db.$queryRaw<{ xmin: string }[]>`SELECT xmin::text FROM "Instance" WHERE id = ${inst.id}`;
    const versionBefore = await version();
    await Promise.all([1, 2].map(() => launchAppServer(t.deps, { instanceId: inst.id, actor: { id: null, login: "test" } })));
    const names = await t.deps.db.appServer.findMany({ where: { instanceId: inst.id }, orderBy: { number: "asc" }, select: { name: true } });
    expect(names.map((a) => a.name)).toEqual(["AppServer 1", "AppServer 2", "AppServer 3", "AppServer 4", "AppServer 5"]);
    expect(await t.deps.db.instance.findUniqueOrThrow({ where: { id: inst.id } })).toEqual(before);
    // No new version of the row either (a rewrite adds entries to every index of the instance table).
    expect(await version()).toEqual(versionBefore);
  });

  it("answers 10 parallel API launches with one Idempotency-Key with one appserver and 10 identical answers", async () => {
    const inst = await makeInstance(t.deps);
    const headers = { ...auth.headers, "idempotency-key": `retry-${inst.id}` };
    const replies = await Promise.all(Array.from({ length: 10 }, () => t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers, json: {} })));
    expect(await count(inst.id)).toBe(1);
    const as = await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: inst.id } });
    expect(replies.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(replies[0]!.json<{ id: number }>().id).toBe(as.id);
    expect(replies.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(9);
    // One provisioning queued, in the first launch's transaction (the outbox), then sent once.
    expect(await t.deps.db.outboxMessage.count({ where: { kind: "provision-appserver", payload: { equals: { appServerId: as.id } } } })).toBe(1);
    await drainOutbox(t.deps);
    const jobs = await t.deps.jobs.queue(QUEUE.provisioning).getJobs(["waiting", "delayed", "active", "prioritized"]);
    expect(jobs.filter((j) => j.data.appServerId === as.id)).toHaveLength(1);
  });

  it("refuses an Idempotency-Key reused for another instance, and forgets keys after 24 hours", async () => {
    const [a, b] = [await makeInstance(t.deps), await makeInstance(t.deps)];
    const headers = { ...auth.headers, "idempotency-key": `reused-${a.id}` };
    expect((await t.agent().request("POST", `/api/v1/instances/${a.id}/appservers`, { headers, json: {} })).status).toBe(202);
    const reused = await t.agent().request("POST", `/api/v1/instances/${b.id}/appservers`, { headers, json: {} });
    expect(reused.status).toBe(422);
    expect(reused.json<{ error: { code: string; message: string } }>().error).toEqual({
      code: "key_reused",
      message: `This key was already used to launch AppServer 1 of the instance "${a.name}"; use a new key for a different launch.`,
    });
    expect(await count(b.id)).toBe(0);
    // The same new key for two instances at once: each holds only its own instance's lock.
    const [c, d] = [await makeInstance(t.deps), await makeInstance(t.deps)];
    const raced = { ...auth.headers, "idempotency-key": `raced-${c.id}` };
    const both = await Promise.all([c, d].map((i) => t.agent().request("POST", `/api/v1/instances/${i.id}/appservers`, { headers: raced, json: {} })));
    expect(both.map((r) => r.status).sort()).toEqual([202, 422]);
    expect((await count(c.id)) + (await count(d.id))).toBe(1);
    const bad = await t.agent().request("POST", `/api/v1/instances/${b.id}/appservers`, { headers: { ...auth.headers, "idempotency-key": "x".repeat(201) }, json: {} });
    expect(bad.status).toBe(400);
    expect(await count(b.id)).toBe(0);
    clock = new Date(clock.getTime() + 24 * 3600_000 + 1000);
    expect((await t.agent().request("POST", `/api/v1/instances/${b.id}/appservers`, { headers, json: {} })).status).toBe(202);
    expect(await count(b.id)).toBe(1);
  });

  it("caps appservers provisioning at once per instance, even for 10 parallel launches", async () => {
    const inst = await makeInstance(t.deps);
    const cap = t.deps.config.MAX_PROVISIONING_PER_INSTANCE;
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers: { ...auth.headers, "idempotency-key": `cap-${inst.id}-${i}` }, json: {} })));
    expect(await count(inst.id)).toBe(cap);
    expect(replies.filter((r) => r.status === 202)).toHaveLength(cap);
    const refused = replies.filter((r) => r.status !== 202);
    expect(refused.map((r) => r.status)).toEqual(Array(10 - cap).fill(409));
    const names = Array.from({ length: cap }, (_, i) => `AppServer ${i + 1}`).join(", ");
    expect(refused[0]!.json<{ error: { message: string } }>().error.message).toBe(
      `This instance already has ${cap} appservers being provisioned (${names}); at most ${cap} may be at once (MAX_PROVISIONING_PER_INSTANCE). Wait for one to finish or cancel one, then launch again.`);
    // The form says the same, and launches nothing.
    const page = await operator.submit(`/instances/${inst.id}/launch`, {}, `/instances/${inst.id}`);
    expect(page.status).toBe(409);
    expect(visibleText(page.text)).toContain(`This instance already has ${cap} appservers being provisioned (${names})`);
    expect(await count(inst.id)).toBe(cap);
  });

  it("offers admins a one-click demo instance on the empty console", async () => {
    const empty = await startTestApp();
    try {
      const admin = await empty.loginAs("ada", { admin: true });
      expect(visibleText((await admin.get("/")).text)).toContain("No instances yet");
      const res = await admin.submit("/demo", {}, "/");
      expect(res.status, visibleText(res.text)).toBe(200);
      expect(visibleText(res.text)).toContain('The demo instance "Demo" was created.');
      const demo = await empty.deps.db.instance.findFirstOrThrow({ where: { name: "Demo" } });
      expect(demo).toMatchObject({ providerKind: "local", playbookPath: "playbooks/demo/site.yml", configurationBranch: "main", internalLmsDomain: "site1.demo.localhost" });
      expect(demo.configurationRepoUrl).toMatch(/^file:\/\/\/.+demo-configuration$/);
      const operatorAgent = await empty.loginAs("otto");
      const refused = await operatorAgent.submit("/demo", {}, "/");
      expect(refused.status).toBe(403);
      expect(await empty.deps.db.instance.count()).toBe(1);
    } finally {
      await empty.close();
    }
  });
});
