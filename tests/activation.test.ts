// Activate / deactivate / terminate through the API (in the request; a real worker applies the
// balancer from the outbox), with a real haproxy in front of stand-in appservers: what the
// balancer serves follows the console.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "./helpers/lb.js";
import { waitFor } from "./helpers/wait.js";
import { visibleText, type Agent } from "./helpers/browserless.js";

type Answer = { message?: string; error?: { message: string }; appServer?: { isActive: boolean; status: string } };

describe("activation through the API, with haproxy following", () => {
  let t: TestApp;
  let workers: RunningWorkers;
  let lbPort: number;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let a: FakeAppServer;
  let b: FakeAppServer;
  let asA: number;
  let asB: number;
  let client: Agent;
  let auth: Record<string, string>;

  const call = async (path: string, json: unknown = {}) => {
    const res = await client.request("POST", `/api/v1/appservers/${path}`, { headers: auth, json });
    return { status: res.status, body: res.json<Answer>() };
  };
  const deployed = () => waitFor("the balancer to deploy the newest version", async () => {
    const row = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    return row.deployedVersion === row.configurationVersion && row.lastError === "" ? row : undefined;
  }, 30_000);
  const servedBy = async () => (await lbGet(lbPort, site.internalLmsDomain)).text;

  beforeAll(async () => {
    lbPort = await freePort();
    t = await startTestApp({ LB_HTTP_PORT: String(lbPort), HAPROXY_TIMEOUT_SECONDS: "20" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    lb = await makeLoadBalancer(t.deps);
    site = await makeInstance(t.deps, { loadBalancerId: lb.id });
    const basic = basicAuthFor(t.deps.secrets, site);
    a = await new FakeAppServer("A", basic).start();
    b = await new FakeAppServer("B", basic).start();
    const running = { status: "running", publicIp: "127.0.0.1" } as const;
    asA = (await makeAppServer(t.deps, site.id, { ...running, configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: a.port } } })).id;
    asB = (await makeAppServer(t.deps, site.id, { ...running, configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: b.port } } })).id;
    await t.loginAs("opal");
    const { token } = await createApiToken(t.deps, { githubLogin: "opal", actor: { id: null, login: "test" } });
    auth = { authorization: `Bearer ${token}` };
    client = t.agent();
  });
  afterAll(async () => {
    await workers?.close();
    await a?.stop();
    await b?.stop();
    await disposeLoadBalancer(lb);
    await t?.close();
  });

  it("activates: the instance's domain reaches that appserver without a password prompt", async () => {
    const res = await call(`${asA}/activate`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: "Activated.", appServer: { isActive: true } });
    await deployed();
    const page = await lbGet(lbPort, site.internalLmsDomain);
    expect(page.status).toBe(200);
    expect(page.text).toBe("served by A");
    expect(a.seen.at(-1)?.authorization).toBe(a.expectedAuthorization);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "appserver.activated", subjectId: String(asA) } });
    expect(audit.actorLogin).toBe("opal");
  });

  it("shows the balancer's generated config, deployed version and last error on its admin page", async () => {
    const admin = await t.loginAs("adele", { admin: true });
    const page = visibleText((await admin.get(`/admin/load-balancers/${lb.id}`)).text);
    const row = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(page).toContain(`Deployed version ${row.deployedVersion}`);
    expect(page).toContain(`${site.internalLmsDomain} ${lb.fragmentName}-inst-${site.id}`);
    expect(page).toContain("Basic [masked]");
    expect(page).not.toContain(basicAuthFor(t.deps.secrets, site).password);
  });

  it("after activating a second one and deactivating the first, serves only the second", async () => {
    expect((await call(`${asB}/activate`)).status).toBe(200);
    expect((await call(`${asA}/deactivate`)).body.message).toBe("Deactivated.");
    await deployed();
    const answers = new Set<string>();
    for (let i = 0; i < 6; i++) answers.add(await servedBy());
    expect([...answers]).toEqual([await servedBy()]);
    expect([...answers][0]).toBe("served by B");
  });

  it("refuses to deactivate the last active appserver of an instance without a pull request", async () => {
    const res = await call(`${asB}/deactivate`);
    expect(res.status).toBe(409);
    expect(res.body.error?.message).toContain("is the last active appserver");
    expect(await servedBy()).toBe("served by B");
  });

  it("refuses to terminate an active appserver", async () => {
    const res = await call(`${asB}/terminate`);
    expect(res.status).toBe(409);
    expect(res.body.error?.message).toBe("AppServer 2 is active: deactivate it before terminating it.");
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: asB } })).status).toBe("running");
  });

  it("with a pull request, lets the last one go and the domain gets the maintenance page", async () => {
    await t.deps.db.instance.update({ where: { id: site.id }, data: { pullRequestUrl: "https://github.com/org/repo/pull/7", pullRequestNumber: 7 } });
    expect((await call(`${asB}/deactivate`)).status).toBe(200);
    await deployed();
    const page = await lbGet(lbPort, site.internalLmsDomain);
    expect(page.status).toBe(503);
  });

  it("refuses to activate an appserver whose heartbeat fails, saying what it got", async () => {
    a.healthy = false;
    const res = await call(`${asA}/activate`, { deactivateOthers: true });
    expect(res.status).toBe(409);
    expect(res.body.error?.message).toBe(`Health check failed: GET http://127.0.0.1:${a.port}/heartbeat answered 503 Service Unavailable, not 200. Not activated.`);
    a.healthy = true;
  });

  it("terminates an inactive appserver", async () => {
    const res = await call(`${asA}/terminate`);
    expect(res.status).toBe(200);
    expect(res.body.appServer?.status).toBe("terminated");
    const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: asA } });
    expect(row.terminatedAt).not.toBeNull();
  });
});
