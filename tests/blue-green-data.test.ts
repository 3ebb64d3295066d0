// The headline proof, end to end with real parts: a real MariaDB recorded as the default
// MySQL server, the demo instance made from the console, real local VMs, real ansible running the
// demo playbook, a real haproxy in front. A blue/green switch done in the console, as an operator
// does it, keeps the data: the visit counter on the instance's database goes on across appservers,
// and terminating the old one loses nothing. Only what a user sees is asserted: the page's text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { freePort } from "../src/embedded/processes.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "./helpers/lb.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";
import { waitFor } from "./helpers/wait.js";

// Safety nets for a loaded 2-core machine, not assertions on speed.
const PROVISIONING_MS = 300_000;
const BALANCER_MS = 60_000;

describe("blue/green keeps the instance's data", () => {
  let vms: LocalVms;
  let mariadb: MariadbServer;
  let t: TestApp;
  let workers: RunningWorkers;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let lbPort: number;
  let op: Agent;
  let instance: { id: number; slug: string; internalLmsDomain: string };
  const appServers: number[] = [];

  /** What a visitor of the demo domain reads, through the balancer. */
  const visit = async () => {
    const page = await lbGet(lbPort, instance.internalLmsDomain);
    expect(page.status, page.text).toBe(200);
    return visibleText(page.text);
  };
  /** Until the balancer runs its newest configuration and its appserver answers /heartbeat (not a visit). */
  const serving = async () => {
    await waitFor("the balancer to deploy its newest configuration", async () => {
      const row = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
      return row.deployedVersion === row.configurationVersion && row.lastError === "" ? row : undefined;
    }, BALANCER_MS);
    await waitFor("the domain's /heartbeat to answer OK through haproxy", async () => {
      const beat = await lbGet(lbPort, instance.internalLmsDomain, { path: "/heartbeat" });
      return beat.status === 200 && beat.text === "OK";
    }, BALANCER_MS);
  };
  /** Clicks a button on an appserver's page and returns the page's message. */
  const click = async (appServerId: number, action: string) => {
    const page = await op.submit(`/appservers/${appServerId}/${action}`, {}, `/appservers/${appServerId}`);
    expect(page.status).toBe(200);
    return visibleText(page.text);
  };
  const launch = async () => {
    const page = await op.submit(`/instances/${instance.id}/launch`, {}, `/instances/${instance.id}`);
    // The page is /instances/<id>/appservers/<number>; the actions take the database id.
    const number = Number(new RegExp(`/instances/${instance.id}/appservers/(\\d+)$`).exec(page.url)?.[1]);
    expect(number, visibleText(page.text)).toBeGreaterThan(0);
    const id = (await t.deps.db.appServer.findUniqueOrThrow({ where: { instanceId_number: { instanceId: instance.id, number } } })).id;
    appServers.push(id);
    const done = await waitFor("the appserver to finish provisioning", async () => {
      const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, PROVISIONING_MS, 500);
    expect(done.status, done.failureSummary).toBe("running");
    return id;
  };

  beforeAll(async () => {
    lbPort = await freePort();
    [vms, mariadb] = await Promise.all([localVms(), startMariadbServer()]);
    t = await startTestApp({ ...vms.env, LB_HTTP_PORT: String(lbPort), HAPROXY_TIMEOUT_SECONDS: "20" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    lb = await makeLoadBalancer(t.deps);
    // The MariaDB as `npm start` records its embedded one: the default MySQL server.
    await t.deps.db.dataService.create({
      data: {
        name: "Embedded MySQL", kind: "mysql", isDefault: true,
        settings: { host: mariadb.host, port: mariadb.port, tls: false, connectTimeoutSeconds: 10 },
        credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify({ username: mariadb.username, password: mariadb.password })),
      },
    });
    op = await t.loginAs("opal", { admin: true });
  }, 120_000);
  afterAll(async () => {
    await workers?.close();
    await disposeLoadBalancer(lb);
    await vms?.cleanup();
    await mariadb?.stop();
    await t?.close();
  });

  it("the one-click demo puts the instance's data on the default MySQL server and says so", async () => {
    const page = await op.submit("/demo", {}, "/");
    expect(visibleText(page.text)).toContain('Its data is on the MySQL server "Embedded MySQL": the demo page counts visits there');
    const row = await t.deps.db.instance.findFirstOrThrow({ where: { internalLmsDomain: { endsWith: ".demo.localhost" } } });
    instance = row;
    expect(row.mysqlServiceId).not.toBeNull();
    expect(row.loadBalancerId).toBe(lb.id);
  });

  it("AppServer 1, activated, counts three visits and names itself", async () => {
    const as1 = await launch();
    expect(await click(as1, "activate")).toContain("Activated.");
    await serving();
    await visit();
    await visit();
    expect(await visit()).toContain(`served by ${instance.slug}-as1 for ${instance.internalLmsDomain} visits: 3`);
  }, PROVISIONING_MS + 2 * BALANCER_MS);

  it("AppServer 2, after \"Activate and deactivate the others\", goes on from the same count", async () => {
    const as2 = await launch();
    expect(await click(as2, "activate-exclusively")).toContain("Activated; 1 other appserver deactivated: AppServer 1.");
    await serving();
    expect(await visit()).toContain(`served by ${instance.slug}-as2 for ${instance.internalLmsDomain} visits: 4`);
  }, PROVISIONING_MS + 2 * BALANCER_MS);

  it("terminating AppServer 1 (its VM deleted) loses nothing", async () => {
    const [as1] = appServers;
    expect(await click(as1!, "terminate")).toContain("Terminated; the VM is being deleted.");
    await waitFor("AppServer 1's VM to be deleted", async () => {
      const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as1! } });
      return row.vmStatus === "terminated" ? row : undefined;
    }, BALANCER_MS);
    expect(await visit()).toContain(`served by ${instance.slug}-as2 for ${instance.internalLmsDomain} visits: 5`);
  }, 2 * BALANCER_MS);
});
