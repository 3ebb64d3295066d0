// Orphan VMs: the local provider's real VMs that no live appserver owns are reported, then removed
// after the grace period (time moved by the test), while owned VMs are left alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { findOrphans } from "../src/domain/orphans/find-orphans.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { serveAs } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { freePort } from "../src/embedded/processes.js";
import { createProvider } from "../src/adapters/provider/factory.js";
import { FakeOpenstack, fakeOpenstackAccount } from "./helpers/fake-openstack.js";

describe("orphan VMs", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let clock = Date.now();

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps({ ...vms.env, ORPHAN_REMOVE_AFTER_HOURS: "1" }, { now: () => new Date(clock) });
    const provider = vms.provider();
    const [stray, owned, done] = [await provider.createServer({ name: "stray" }), await provider.createServer({ name: "owned-as1" }), await provider.createServer({ name: "done-as2" })];
    const instance = await makeInstance(deps);
    await makeAppServer(deps, instance.id, { status: "running", providerServerId: owned.id });
    await makeAppServer(deps, instance.id, { status: "terminated", providerServerId: done.id, name: "AppServer 2" });
    expect(stray.id).toBeTruthy();
  });
  afterAll(async () => {
    await vms?.cleanup();
    await deps?.close();
  });

  it("reports VMs no live appserver owns, with the reason, and removes them only after the grace period", async () => {
    const ports = createProvisioningPorts(deps);
    const web = await serveAs(deps);
    try {
      const page = visibleText((await web.agent.get("/orphans")).text);
      expect(page).toContain("local stray");
      expect(page).toContain("no appserver has this VM");
      expect(page).toContain("AppServer 2 is terminated");
      expect(page).not.toContain("owned-as1");
    } finally {
      await web.close();
    }
    const first = (await findOrphans(deps, ports, { remove: true })).orphans;
    expect(first.map((o) => [o.name, o.reason, o.removed ?? false]).sort()).toEqual([
      ["done-as2", "AppServer 2 is terminated", false],
      ["stray", "no appserver has this VM", false],
    ]);
    clock += 2 * 3_600_000;
    const second = (await findOrphans(deps, ports, { remove: true })).orphans;
    expect(second.filter((o) => o.removed).map((o) => o.name).sort()).toEqual(["done-as2", "stray"]);
    expect((await vms.provider().listServers()).map((v) => v.name)).toEqual(["owned-as1"]);
    expect(await findOrphans(deps, ports)).toEqual({ orphans: [], failures: [] });
  });

  it("lists the healthy provider's orphans and says, per broken account, what failed (status 200)", async () => {
    const stray = await vms.provider().createServer({ name: "stray-2" });
    const closed = await freePort();
    const settings = { authUrl: `http://127.0.0.1:${closed}/v3`, projectName: "p", flavorRef: "f", imageRef: "i", keyName: "k" };
    const credentials = { username: "ocim", password: "pw-never-shown", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----" };
    const account = await deps.db.providerAccount.create({
      data: { name: "dead-cloud", kind: "openstack", settings, credentialsEncrypted: deps.secrets.encrypt(JSON.stringify(credentials)) },
    });
    const web = await serveAs(deps);
    try {
      const res = await web.agent.get("/orphans");
      expect(res.status).toBe(200);
      const page = visibleText(res.text);
      expect(page).toContain("local stray-2");
      expect(page).toContain(`openstack (account dead-cloud): could not be listed: Could not reach OpenStack (127.0.0.1:${closed}) while authenticating provider account "dead-cloud": connection refused.`);
      expect(res.text).not.toContain("pw-never-shown");

      // An account saved before its settings were checked: the same, with what is wrong in it.
      await deps.db.providerAccount.update({ where: { id: account.id }, data: { settings: { authUrl: "keystone" } } });
      const old = await web.agent.get("/orphans");
      expect(old.status).toBe(200);
      expect(visibleText(old.text)).toContain("local stray-2");
      expect(visibleText(old.text)).toContain('openstack (account dead-cloud): could not be listed: The settings of provider account "dead-cloud" are not valid: "authUrl" must be an http(s) URL;');
    } finally {
      await web.close();
      await deps.db.providerAccount.delete({ where: { id: account.id } });
      await vms.provider().deleteServer(stray.id);
    }
  });
});

describe("orphan VMs on OpenStack", () => {
  let fake: FakeOpenstack;
  let deps: TestDeps;
  let clock = Date.now();

  beforeAll(async () => {
    fake = await new FakeOpenstack().start();
    deps = await createTestDeps({ ORPHAN_REMOVE_AFTER_HOURS: "1" }, { now: () => new Date(clock) });
    await deps.db.providerAccount.create({ data: fakeOpenstackAccount(fake, (p) => deps.secrets.encrypt(p), { floatingNetwork: undefined }) });
  });
  afterAll(async () => {
    await deps?.close();
    await fake?.stop();
  });

  it("never reports or removes a VM Ocim did not make, nor one Nova is deleting", async () => {
    const foreign = fake.addForeignServer("billing-db");
    const lookalike = fake.addForeignServer("billing-as1");
    const provider = createProvider(deps, "openstack");
    const stray = await provider.createServer({ name: "lost-as3" });
    const going = await provider.createServer({ name: "going-as4" });
    Object.assign(fake.servers.get(going.id)!, { taskState: "deleting", deleteLeft: 1_000 });
    const ports = createProvisioningPorts(deps);
    const first = await findOrphans(deps, ports, { remove: true });
    expect(first.failures).toEqual([]);
    expect(first.orphans.filter((o) => o.providerKind === "openstack").map((o) => o.name)).toEqual(["lost-as3"]);
    clock += 2 * 3_600_000;
    const second = await findOrphans(deps, ports, { remove: true });
    expect(second.orphans.filter((o) => o.removed).map((o) => o.name)).toEqual(["lost-as3"]);
    expect(fake.servers.has(stray.id)).toBe(false);
    expect(fake.servers.has(foreign.id)).toBe(true);
    expect(fake.servers.has(lookalike.id)).toBe(true);
  });
});
