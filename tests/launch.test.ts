// Launching from the instance page and from the API: a new appserver with a frozen snapshot and a
// queued provisioning job carrying only its id; bad requests change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { QUEUE } from "../src/jobs/names.js";
import { drainOutbox } from "../src/jobs/relay-outbox.js";

describe("launching an appserver", () => {
  let t: TestApp;
  let operator: Agent;
  let auth: { headers: Record<string, string> };
  beforeAll(async () => {
    t = await startTestApp();
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
    expect(res.headers.get("location")).toBe(`/appservers/${as.id}`);
    expect(as).toMatchObject({ name: "AppServer 1", status: "new" });
    const user = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "olivia" } });
    expect(as.createdById).toBe(user.id);
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
