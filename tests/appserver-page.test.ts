// The appserver page and API detail: where provisioning is, the authenticated link (password for
// admins only), the frozen configuration with secrets masked, and the actions that fit the status.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";

describe("the appserver page", () => {
  let t: TestApp;
  let admin: Agent;
  let operator: Agent;
  let instance: Awaited<ReturnType<typeof makeInstance>>;
  let password: string;
  let user: string;

  beforeAll(async () => {
    t = await startTestApp();
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
    expect(adminText).toContain("Step Provisioned");
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
    expect(again.status).toBe(409);
    expect(visibleText(again.text)).toContain("there is nothing to cancel");
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
