// Story 3 of issue 15 in real Chromium: an operator takes a live site down from the console, step by
// step, each behind a confirmation, until it is deleted; the real haproxy in front of it answers the
// maintenance page meanwhile. Screenshots in tests/artifacts/decommission-*.png.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "../helpers/lb.js";
import { FakeAppServer } from "../helpers/fake-appserver.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { freePort } from "../../src/embedded/processes.js";
import { basicAuthFor } from "../../src/domain/instances/secret.js";
import { allDomains } from "../../src/domain/instances/domains.js";
import { applyLoadBalancer } from "../../src/domain/loadbalancer/apply-load-balancer.js";

describe("decommissioning an instance in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let port: number;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let vm: FakeAppServer;

  /** What the worker does with the apply the step queued (the outbox row): the balancer takes the change. */
  const applyQueued = async () => {
    expect(await t.deps.db.outboxMessage.count({ where: { kind: "apply-load-balancer", sentAt: null } })).toBeGreaterThan(0);
    await applyLoadBalancer(t.deps, { loadBalancerId: lb.id });
    await t.deps.db.outboxMessage.updateMany({ where: { sentAt: null }, data: { sentAt: new Date() } });
  };
  const flashes = () => page.locator(".flash").allInnerTexts();
  /** Opens the confirmation of a step, checks what it says, confirms. */
  const confirmStep = async (label: string, says: RegExp) => {
    // Folded on a page where nothing is on its way down yet; open from the first step on.
    if ((await page.locator("#decommission").getAttribute("open")) === null) await page.locator("#decommission > summary").click();
    const opener = page.locator("#decommission button[data-confirm]", { hasText: label });
    await opener.click();
    const box = page.locator(`dialog#${await opener.getAttribute("data-confirm")}`);
    await expect.poll(() => box.isVisible()).toBe(true);
    // The console's one confirmation: a modal dialog named by its question, Back first.
    expect(await page.getByRole("dialog", { name: says }).count()).toBe(1);
    expect(await box.locator("[data-confirm-close]").innerText()).toBe("Back");
    expect(await box.innerText()).toMatch(says);
    await box.getByRole("button", { name: /^Yes, / }).click();
    await page.waitForLoadState("load");
  };

  beforeAll(async () => {
    port = await freePort();
    t = await startTestApp({ LB_HTTP_PORT: String(port), HAPROXY_TIMEOUT_SECONDS: "20" });
    lb = await makeLoadBalancer(t.deps);
    site = await makeInstance(t.deps, { name: "Maple College", internalLmsDomain: "learn.maple.example.edu", externalDomains: ["courses.maple.edu"], loadBalancerId: lb.id });
    vm = await new FakeAppServer("Maple", basicAuthFor(t.deps.secrets, site)).start();
    await makeAppServer(t.deps, site.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: vm.port } } });
    await makeAppServer(t.deps, site.id, { status: "failed", vmStatus: "ready", publicIp: "127.0.0.2" });
    await applyLoadBalancer(t.deps, { loadBalancerId: lb.id, force: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await vm?.stop();
    await disposeLoadBalancer(lb);
    await t?.close();
  });

  it("refuses a step out of order with a message, changing nothing", async () => {
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by Maple");
    await page.goto(`${t.url}/instances/${site.id}`);
    await page.locator("#decommission > summary").click();
    expect(await page.locator("#decommission li").allInnerTexts()).toEqual([
      expect.stringMatching(/^Maintenance: every domain will answer a "Maple College is under maintenance" page/),
      "Deactivate: AppServer 1 is active: put the site in maintenance first.",
      "Terminate: 2 appservers to terminate once none is active.",
      "Archive or delete: once every appserver is terminated.",
    ]);
    await screenshot(page, "decommission-1-panel");
    // A page left open elsewhere (or a crafted post) asks to terminate now: the server says no.
    await page.evaluate(() => {
      const form = document.querySelector<HTMLFormElement>('form[action$="/decommission/maintenance-on"]')!;
      form.action = form.action.replace("maintenance-on", "terminate");
      form.submit();
    });
    await page.waitForURL(/#decommission$/);
    expect(await flashes()).toContain("AppServer 1 (running) is active: deactivate first (put the instance in maintenance to deactivate the last one); nothing was terminated.");
    expect(await t.deps.db.appServer.count({ where: { instanceId: site.id, status: { not: "terminated" } } })).toBe(2);
  });

  it("puts the site in maintenance: every domain answers the maintenance page through haproxy", async () => {
    await confirmStep("Put in maintenance", /Visitors of every domain of Maple College get the maintenance page at once/);
    expect(await flashes()).toContain("Maple College is in maintenance: the load balancer answers every domain with the maintenance page.");
    expect(await page.locator(".maintenance-notice").innerText()).toMatch(/^In maintenance since \d{4}-\d\d-\d\d .*, by local-admin: the load balancer answers every domain/);
    await applyQueued();
    for (const domain of allDomains(site)) {
      const reply = await lbGet(port, domain);
      expect([reply.status, reply.headers["retry-after"]]).toEqual([503, "120"]);
      expect(reply.text).toContain("<h1>Maple College is under maintenance</h1>");
    }
    await screenshot(page, "decommission-2-maintenance");
  });

  it("deactivates, terminates and archives, each confirmed, the next step offered each time", async () => {
    await confirmStep("Deactivate 1 appserver", /AppServer 1 stops being active; the site stays in maintenance. Its VM keeps running until terminated./);
    expect(await flashes()).toContain("Deactivated 1 appserver; the site stays in maintenance.");
    expect(await page.locator('#decommission li[data-step="deactivate"]').innerText()).toBe("Deactivate: done; no appserver is active.");
    // Leaving maintenance now would leave the site nothing to serve: not offered, and said why.
    expect(await page.locator('#decommission li[data-step="maintenance"]').innerText()).toMatch(/To leave it, activate an appserver first: without one the site would have nothing to serve\.$/);
    expect(await page.locator("#decommission button[data-confirm]", { hasText: "Leave maintenance" }).count()).toBe(0);

    await confirmStep("Terminate 2 appservers", /Their VMs are deleted for good/);
    expect(await flashes()).toContain("Terminated AppServer 1, AppServer 2; their VMs are being deleted.");
    expect(await page.locator("table.appservers .badge.status-terminated").count()).toBe(2);
    // None is left to activate: the way out of maintenance is a new launch.
    expect(await page.locator('#decommission li[data-step="maintenance"]').innerText()).toMatch(/To leave it, launch an appserver and activate it first: none is left, and without one the site would have nothing to serve\.$/);
    // Still the maintenance page: terminating changed nothing the visitors see.
    expect((await lbGet(port, site.internalLmsDomain)).status).toBe(503);

    await confirmStep("Archive", /Maple College launches nothing any more and leaves its load balancer/);
    expect(await flashes()).toContain('Maple College was archived: it launches nothing and its domains answer "no site here". An admin may delete it.');
    await applyQueued();
    expect((await lbGet(port, site.internalLmsDomain)).status).toBe(404);
    expect(await page.locator(".maintenance-notice").count()).toBe(0);
    expect(await page.locator('#decommission li[data-step="archive"]').innerText()).toMatch(/^Archive or delete: archived; its domains answer "no site here"\./);
    await screenshot(page, "decommission-3-archived");

    const events = await t.deps.db.auditEvent.findMany({ where: { actorLogin: "local-admin" }, orderBy: { id: "asc" }, select: { action: true } });
    expect(events.map((e) => e.action).filter((a) => a.startsWith("instance.") || a.startsWith("appserver."))).toEqual([
      "instance.maintenance_entered", "appserver.deactivated", "appserver.terminated", "appserver.terminated", "instance.archived",
    ]);
  });

  it("deletes it through the admin's confirmation page", async () => {
    await page.getByRole("link", { name: "Delete…" }).click();
    await page.waitForURL(new RegExp(`/admin/instances/${site.id}/delete$`));
    expect(await page.locator("h1").innerText()).toMatch(/Maple College\?$/);
    expect(await page.locator(".deletion-list").innerText()).toContain("2 appservers (all terminated)");
    await screenshot(page, "decommission-4-delete");
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.waitForLoadState("load");
    expect(await t.deps.db.instance.findUnique({ where: { id: site.id } })).toBeNull();
    const gone = await page.goto(`${t.url}/instances/${site.id}`);
    expect(gone?.status()).toBe(404);
  });
});
