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
    const first = await findOrphans(deps, ports, { remove: true });
    expect(first.map((o) => [o.name, o.reason, o.removed ?? false]).sort()).toEqual([
      ["done-as2", "AppServer 2 is terminated", false],
      ["stray", "no appserver has this VM", false],
    ]);
    clock += 2 * 3_600_000;
    const second = await findOrphans(deps, ports, { remove: true });
    expect(second.filter((o) => o.removed).map((o) => o.name).sort()).toEqual(["done-as2", "stray"]);
    expect((await vms.provider().listServers()).map((v) => v.name)).toEqual(["owned-as1"]);
    expect(await findOrphans(deps, ports)).toEqual([]);
  });
});
