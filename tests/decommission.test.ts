// Taking a site down (docs/admin.md, "Decommissioning"): maintenance, then deactivate, terminate,
// archive or delete. The rules on the real database: each step refused out of order with a message
// and nothing changed; in order, each audited with who did it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer, removeLoadBalancerFiles } from "./helpers/lb.js";
import { deactivateAppServer, deactivateInstanceAppServers } from "../src/domain/appservers/activation.js";
import { terminateInstanceAppServers } from "../src/domain/appservers/terminate-appserver.js";
import { setMaintenance } from "../src/domain/instances/set-maintenance.js";
import { archiveInstance } from "../src/domain/instances/archive-instance.js";
import { updateInstance } from "../src/domain/instances/update-instance.js";
import { deleteInstance } from "../src/domain/instances/delete-instance.js";

const alice = { id: null, login: "alice" };

describe("decommissioning an instance", () => {
  let deps: TestDeps;
  let clock = new Date("2026-12-01T10:00:00Z");
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  beforeAll(async () => {
    deps = await createTestDeps({}, { now: () => clock });
    lb = await makeLoadBalancer(deps);
  });
  afterAll(async () => {
    removeLoadBalancerFiles(lb);
    await deps.close();
  });

  const activeCount = (instanceId: number) => deps.db.appServer.count({ where: { instanceId, isActive: true } });
  const audits = (instanceId: number) =>
    deps.db.auditEvent.findMany({ where: { subjectType: "Instance", subjectId: String(instanceId) }, orderBy: { id: "asc" }, select: { action: true, actorLogin: true, diff: true } });
  const version = async () => (await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } })).configurationVersion;
  const applies = () => deps.db.outboxMessage.count({ where: { kind: "apply-load-balancer", payload: { equals: { loadBalancerId: lb.id } } } });

  it("keeps the last active appserver of a site out of maintenance, and lets it go once the site is in maintenance", async () => {
    const site = await makeInstance(deps, { name: "Acme Academy", loadBalancerId: lb.id });
    const a = await makeAppServer(deps, site.id, { status: "running", isActive: true });
    const b = await makeAppServer(deps, site.id, { status: "running", isActive: true });

    // Out of order: nothing changes, and the message says what to do.
    await expect(deactivateInstanceAppServers(deps, { instanceId: site.id, actor: alice })).rejects.toThrow(/put the instance in maintenance to take it down/);
    expect(await activeCount(site.id)).toBe(2);
    await deactivateAppServer(deps, { appServerId: a.id, actor: alice });
    await expect(deactivateAppServer(deps, { appServerId: b.id, actor: alice })).rejects.toThrow("AppServer 2 is the last active appserver of Acme Academy");
    expect(await activeCount(site.id)).toBe(1);

    const [versionBefore, appliesBefore] = [await version(), await applies()];
    clock = new Date("2026-12-01T10:05:00Z");
    await expect(setMaintenance(deps, { instance: site.id, actor: alice, on: true })).resolves.toEqual({ id: site.id, name: "Acme Academy", active: 1 });
    const down = await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } });
    expect(down.maintenanceSince).toEqual(clock);
    expect(down.maintenanceBy).toBe("alice");
    // The balancer learns of it in the same transaction: a new version, and its apply queued through the outbox.
    expect(await version()).toBe(versionBefore + 1);
    expect(await applies()).toBe(appliesBefore + 1);
    await expect(setMaintenance(deps, { instance: site.id, actor: alice, on: true })).rejects.toThrow("Acme Academy is already in maintenance (since 2026-12-01 10:05 UTC, by alice); nothing changed.");

    await deactivateAppServer(deps, { appServerId: b.id, actor: alice });
    expect(await activeCount(site.id)).toBe(0);

    // Back out of maintenance with nothing to serve: refused, still in maintenance.
    await expect(setMaintenance(deps, { instance: site.id, actor: alice, on: false })).rejects.toThrow("Acme Academy has no active appserver, so out of maintenance the site would have nothing to serve.");
    expect((await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).maintenanceSince).toEqual(clock);

    const events = await audits(site.id);
    expect(events.map((e) => [e.action, e.actorLogin])).toEqual([["instance.maintenance_entered", "alice"]]);
    expect(events[0]!.diff).toEqual({ maintenanceSince: [null, "2026-12-01T10:05:00.000Z"], maintenanceBy: [null, "alice"] });
  });

  it("puts the site back when it leaves maintenance with an active appserver", async () => {
    const site = await makeInstance(deps, { loadBalancerId: lb.id, maintenanceSince: clock, maintenanceBy: "bob" });
    await makeAppServer(deps, site.id, { status: "running", isActive: true });
    await expect(setMaintenance(deps, { instance: site.id, actor: alice, on: false })).resolves.toMatchObject({ active: 1 });
    const back = await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } });
    expect([back.maintenanceSince, back.maintenanceBy]).toEqual([null, null]);
    expect((await audits(site.id)).map((e) => [e.action, e.actorLogin, e.diff])).toEqual([
      ["instance.maintenance_left", "alice", { maintenanceSince: [clock.toISOString(), null], maintenanceBy: ["bob", null] }],
    ]);
    await expect(setMaintenance(deps, { instance: site.id, actor: alice, on: false })).rejects.toThrow("is not in maintenance; nothing changed.");
    // A pull-request instance may be out of maintenance with none active, as it may be deactivated to none.
    const pr = await makeInstance(deps, { pullRequestUrl: "https://github.com/o/r/pull/7", maintenanceSince: clock, maintenanceBy: "bob" });
    await expect(setMaintenance(deps, { instance: pr.id, actor: alice, on: false })).resolves.toMatchObject({ active: 0 });
  });

  it("refuses to archive a site that still serves traffic, from the console and from the admin form, changing nothing", async () => {
    const site = await makeInstance(deps, { name: "Live Site", loadBalancerId: lb.id });
    await makeAppServer(deps, site.id, { status: "running", isActive: true });
    const message = "Live Site is still serving traffic through AppServer 1: archiving would hide a live site. Put it in maintenance and deactivate it first (Decommission, on the instance's page); nothing was archived.";
    await expect(archiveInstance(deps, { instanceId: site.id, actor: alice })).rejects.toThrow(message);
    const refused = await updateInstance(deps, { actor: alice, id: site.id, values: { isArchived: "true" } }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: "validation", details: { fields: { isArchived: message } } });
    expect((await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).isArchived).toBe(false);
    expect(await audits(site.id)).toEqual([]);
  });

  it("refuses to take a live site off its load balancer from the admin form, and lets it leave once nothing is active", async () => {
    const site = await makeInstance(deps, { name: "Routed Site", loadBalancerId: lb.id });
    const live = await makeAppServer(deps, site.id, { status: "running", isActive: true });
    const [versionBefore, appliesBefore] = [await version(), await applies()];
    const refused = await updateInstance(deps, { actor: alice, id: site.id, values: { loadBalancerId: "" } }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: "validation", details: { fields: { loadBalancerId:
      "Routed Site is serving traffic through AppServer 1 on this load balancer: without one, its domains would answer 404 at once. " +
      "Choose another load balancer, or put it in maintenance and deactivate it first (Decommission, on the instance's page); nothing was saved." } } });
    expect((await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).loadBalancerId).toBe(lb.id);
    expect([await version(), await applies(), await audits(site.id)]).toEqual([versionBefore, appliesBefore, []]);
    // Other changes of the same instance save as before; with nothing active it may leave the balancer.
    await updateInstance(deps, { actor: alice, id: site.id, values: { name: "Routed Site II" } });
    await deps.db.appServer.update({ where: { id: live.id }, data: { isActive: false } });
    await updateInstance(deps, { actor: alice, id: site.id, values: { loadBalancerId: "" } });
    expect((await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).loadBalancerId).toBeNull();
  });

  it("takes a site down in order: maintenance, deactivate, terminate, archive, delete; each step refused before its turn", async () => {
    const site = await makeInstance(deps, { name: "Old Campus", loadBalancerId: lb.id });
    await makeAppServer(deps, site.id, { status: "running", isActive: true });
    await makeAppServer(deps, site.id, { status: "running", isActive: true });
    await makeAppServer(deps, site.id, { status: "failed" });
    const statuses = async () => (await deps.db.appServer.findMany({ where: { instanceId: site.id }, orderBy: { number: "asc" } })).map((a) => `${a.status}${a.isActive ? "*" : ""}`);

    await expect(terminateInstanceAppServers(deps, { instanceId: site.id, actor: alice })).rejects.toThrow("AppServer 1 (running), AppServer 2 (running) are active: deactivate first (put the instance in maintenance to deactivate the last one); nothing was terminated.");
    await expect(deleteInstance(deps, { actor: alice, ids: [site.id] })).rejects.toThrow(/not terminated/);
    expect(await statuses()).toEqual(["running*", "running*", "failed"]);

    await setMaintenance(deps, { instance: site.id, actor: alice, on: true });
    await expect(deactivateInstanceAppServers(deps, { instanceId: site.id, actor: alice })).resolves.toMatchObject({ deactivated: expect.any(Array) });
    expect(await statuses()).toEqual(["running", "running", "failed"]);
    await expect(deactivateInstanceAppServers(deps, { instanceId: site.id, actor: alice })).rejects.toThrow("Old Campus has no active appserver; nothing was deactivated.");

    // One still provisioning holds up every termination, not only its own.
    const busy = await makeAppServer(deps, site.id, { status: "configuring" });
    await expect(terminateInstanceAppServers(deps, { instanceId: site.id, actor: alice })).rejects.toThrow("AppServer 4 (configuring) is still provisioning: cancel it on its page first; nothing was terminated.");
    expect(await statuses()).toEqual(["running", "running", "failed", "configuring"]);
    await deps.db.appServer.update({ where: { id: busy.id }, data: { status: "error" } });

    const terminated = await terminateInstanceAppServers(deps, { instanceId: site.id, actor: alice });
    expect(terminated.map((t) => t.name)).toEqual(["AppServer 1", "AppServer 2", "AppServer 3", "AppServer 4"]);
    expect(await statuses()).toEqual(["terminated", "terminated", "terminated", "terminated"]);
    expect(await deps.db.outboxMessage.count({ where: { kind: "delete-appserver-vm", payload: { path: ["appServerId"], equals: busy.id } } })).toBe(1);

    await archiveInstance(deps, { instanceId: site.id, actor: alice });
    expect((await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).isArchived).toBe(true);
    await expect(archiveInstance(deps, { instanceId: site.id, actor: alice })).rejects.toThrow("Old Campus is already archived; nothing changed.");
    expect((await audits(site.id)).map((e) => e.action)).toEqual(["instance.maintenance_entered", "instance.archived"]);
    const ids = terminated.map((t) => String(t.id));
    const appserverAudits = await deps.db.auditEvent.groupBy({ by: ["action", "actorLogin"], where: { subjectType: "AppServer", subjectId: { in: ids } }, _count: true, orderBy: { action: "asc" } });
    expect(appserverAudits.map((g) => [g.action, g.actorLogin, g._count])).toEqual([["appserver.deactivated", "alice", 2], ["appserver.terminated", "alice", 4]]);

    await expect(deleteInstance(deps, { actor: alice, ids: [site.id] })).resolves.toMatchObject({ deleted: 1 });
    expect(await deps.db.instance.findUnique({ where: { id: site.id } })).toBeNull();
  });
});
