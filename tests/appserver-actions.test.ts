// Activate / deactivate / terminate run in the request, with no worker: the change is committed
// and answered at once, the slow follow-ups (balancer apply, VM delete) wait in the outbox, and
// each refusal keeps its code and says why (404 unknown, 409 rule or state).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { deleteAppServerVm } from "../src/domain/appservers/delete-appserver-vm.js";
import type { VmProvider } from "../src/domain/provisioning/ports.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { disposeLoadBalancer, makeLoadBalancer } from "./helpers/lb.js";
import { visibleText, type Agent } from "./helpers/browserless.js";

type Answer = { message?: string; error?: { message: string }; appServer?: { isActive: boolean; status: string; vmStatus: string } };

describe("appserver actions in the request", () => {
  let t: TestApp;
  let fake: FakeAppServer;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let client: Agent;
  let auth: Record<string, string>;
  const call = async (path: string, json: unknown = {}) => {
    const res = await client.request("POST", `/api/v1/appservers/${path}`, { headers: auth, json });
    return { status: res.status, body: res.json<Answer>() };
  };
  const unsent = (kind: string) => t.deps.db.outboxMessage.findMany({ where: { kind, sentAt: null }, select: { payload: true } });

  beforeAll(async () => {
    t = await startTestApp();
    lb = await makeLoadBalancer(t.deps);
    site = await makeInstance(t.deps, { loadBalancerId: lb.id });
    fake = await new FakeAppServer("A", basicAuthFor(t.deps.secrets, site)).start();
    await t.loginAs("opal");
    const { token } = await createApiToken(t.deps, { githubLogin: "opal", actor: { id: null, login: "test" } });
    auth = { authorization: `Bearer ${token}` };
    client = t.agent();
  });
  afterAll(async () => {
    await fake?.stop();
    await disposeLoadBalancer(lb);
    await t?.close();
  });

  it("activates at once without a worker, and leaves the balancer's apply in the outbox", async () => {
    const as = await makeAppServer(t.deps, site.id, { status: "running", publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: fake.port } } });
    const res = await call(`${as.id}/activate`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: "Activated.", appServer: { isActive: true } });
    expect(await unsent("apply-load-balancer")).toContainEqual({ payload: { loadBalancerId: lb.id } });
    expect(await unsent("status-event")).toContainEqual({ payload: { appServerId: as.id } });
  });

  it("names the appservers \"deactivate the others\" deactivated", async () => {
    const snapshot = { configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: fake.port } } };
    await t.deps.db.appServer.updateMany({ where: { instanceId: site.id }, data: { isActive: false } });
    const old = await makeAppServer(t.deps, site.id, { status: "running", isActive: true, publicIp: "127.0.0.1", ...snapshot });
    const next = await makeAppServer(t.deps, site.id, { status: "running", publicIp: "127.0.0.1", ...snapshot });
    const res = await call(`${next.id}/activate`, { deactivateOthers: true });
    expect(res.status).toBe(200);
    expect(res.body.message).toBe(`Activated; 1 other appserver deactivated: ${old.name}.`);
  });

  it("terminates at once; the VM is deleted by the job the outbox queued", async () => {
    const as = await makeAppServer(t.deps, site.id, { status: "failed", providerServerId: "vm-7", vmStatus: "ready" });
    const res = await call(`${as.id}/terminate`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: "Terminated; the VM is being deleted.", appServer: { status: "terminated", vmStatus: "ready" } });
    expect(await unsent("delete-appserver-vm")).toEqual([{ payload: { appServerId: as.id } }]);
    const deleted: string[] = [];
    const provider = { deleteServer: async (id: string) => void deleted.push(id) } as unknown as VmProvider;
    await deleteAppServerVm(t.deps, { appServerId: as.id, provider: () => provider });
    expect(deleted).toEqual(["vm-7"]);
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).vmStatus).toBe("terminated");
  });

  it("keeps each refusal's code and message, and changes nothing", async () => {
    expect((await call("999999/deactivate")).status).toBe(404);
    const configuring = await makeAppServer(t.deps, site.id, { status: "configuring" });
    const refused = await call(`${configuring.id}/terminate`);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.message).toContain("only running, failed or error appservers can be terminated (cancel the provisioning first)");
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: configuring.id } })).status).toBe("configuring");
  });

  it("tells a refusal on the appserver's page", async () => {
    const op = await t.loginAs("olga");
    const as = await makeAppServer(t.deps, site.id, { status: "running" });
    const page = await op.submit(`/appservers/${as.id}/deactivate`, {}, `/appservers/${as.id}`);
    expect(visibleText(page.text)).toContain(`${as.name} is not active.`);
  });
});
