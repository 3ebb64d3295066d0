// The home page's fleet panels are read once per SIDEBAR_CACHE_MS for everyone, and rendered once per
// overview and kind of viewer (h.fleetPanels): an operator never gets the admin's links, and a new
// overview is rendered anew. Real PostgreSQL and Redis; the clock is injected and moved.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";

/** The fleet region of the home page (its panels), as HTML. */
function fleetRegion(html: string): string {
  const start = html.indexOf('<div data-live-region="fleet">');
  if (start < 0) throw new Error("no fleet region on the page");
  return html.slice(start, html.indexOf("</main>", start));
}

describe("the fleet panels, shared between viewers", () => {
  let t: TestApp;
  let admin: Agent;
  let operator: Agent;
  let clock = new Date("2026-12-05T09:00:00Z");
  let balancerId: number;

  beforeAll(async () => {
    t = await startTestApp({ SIDEBAR_CACHE_MS: "60000" }, { now: () => clock });
    // All before anyone opens the home page (logging in lands there), whose reads are then kept for
    // the minute. With no instance at all it shows how to add one instead of the panels.
    await makeInstance(t.deps, { name: "Alpha Academy" });
    const lb = await t.deps.db.loadBalancer.create({
      data: { name: "lb-east", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: "east", configurationVersion: 3, deployedVersion: 2, lastError: "haproxy -c failed: line 7" },
    });
    balancerId = lb.id;
    admin = await t.loginAs("ada", { admin: true });
    operator = await t.loginAs("otto");
    // A minute on: the reads the logins made (ada's user before she was made admin) are read again.
    clock = new Date(clock.getTime() + 61_000);
  });
  afterAll(() => t?.close());

  it("gives each viewer the panels of their role from the one shared overview, in any order", async () => {
    const adminLinks = [`href="/admin/load-balancers/${balancerId}"`, 'href="/admin/instances/add"'];
    for (const [who, isAdmin] of [[admin, true], [operator, false], [admin, true], [operator, false]] as const) {
      const region = fleetRegion((await who.get("/")).text);
      expect(visibleText(region)).toContain("Balancers not in sync 1 lb-east · version 2 deployed, 3 wanted haproxy -c failed: line 7");
      for (const link of adminLinks) expect(region.includes(link)).toBe(isAdmin);
    }
  });

  it("shows what changed once the shared overview is read again, to both kinds of viewer", async () => {
    await t.deps.db.loadBalancer.create({
      data: { name: "lb-west", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: "west", configurationVersion: 1, deployedVersion: 0, lastError: "" },
    });
    // Within the minute the overview is the one already read.
    expect(visibleText(fleetRegion((await operator.get("/")).text))).toContain("Balancers not in sync 1 lb-east");
    clock = new Date(clock.getTime() + 61_000);
    for (const who of [operator, admin]) {
      expect(visibleText(fleetRegion((await who.get("/")).text))).toContain("Balancers not in sync 2 lb-east · version 2 deployed, 3 wanted haproxy -c failed: line 7 lb-west · version 0 deployed, 1 wanted");
    }
  });
});
