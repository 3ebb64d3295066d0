// The console in real Chromium: the list, its "Show archived" checkbox (a script under the CSP),
// a click through to an instance. Screenshots in tests/artifacts/ for a person to look at.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";

describe("console in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let harvardId: number;

  beforeAll(async () => {
    t = await startTestApp();
    const day = (d: number) => new Date(Date.UTC(2026, 0, d, 9, 30));
    const harvard = await makeInstance(t.deps, {
      name: "Harbor Learning", internalLmsDomain: "learn.harbor.example.com", externalDomains: ["courses.harbor.edu"],
      extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Harbor Learning\nEDXAPP_EMAIL_HOST_PASSWORD: do-not-show\n", appserverCount: 2,
    });
    harvardId = harvard.id;
    await makeAppServer(t.deps, harvard.id, { status: "terminated", vmStatus: "terminated", createdAt: day(2) });
    await makeAppServer(t.deps, harvard.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "10.0.4.21", createdAt: day(9) });
    await makeAppServer(t.deps, harvard.id, { status: "configuring", vmStatus: "ready", publicIp: "10.0.4.22", createdAt: day(12) });
    const cedar = await makeInstance(t.deps, { name: "Cedar University", internalLmsDomain: "lms.cedar-university.example.org" });
    await makeAppServer(t.deps, cedar.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "10.0.5.3", createdAt: day(5) });
    await makeAppServer(t.deps, cedar.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "10.0.5.4", createdAt: day(6) });
    const nova = await makeInstance(t.deps, { name: "Nova Institute of Technology", internalLmsDomain: "nova.example.net" });
    await makeAppServer(t.deps, nova.id, { status: "failed", vmStatus: "ready", failureSummary: "TASK [edxapp] fatal", createdAt: day(11) });
    await makeInstance(t.deps, { name: "Quartz Academy", internalLmsDomain: "quartz-academy.example.com" });
    await makeInstance(t.deps, { name: "Old Pilot", internalLmsDomain: "pilot.example.com", isArchived: true });

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows the instance list with its badges", async () => {
    await page.goto(`${t.url}/`);
    const rows = page.locator(".instance-list li");
    await expect.poll(() => rows.allInnerTexts()).toEqual([
      expect.stringMatching(/^Cedar University\s+2 active\s*running\s+lms\.cedar-university\.example\.org$/),
      expect.stringMatching(/^Harbor Learning\s+1 active\s*configuring\s+learn\.harbor\.example\.com$/),
      expect.stringMatching(/^Nova Institute of Technology\s+0 active\s*failed\s+nova\.example\.net$/),
      expect.stringMatching(/^Quartz Academy\s+0 active\s*none\s+quartz-academy\.example\.com$/),
    ]);
    await screenshot(page, "instance-list");
  });

  it("shows archived instances when the checkbox is ticked, without a click on Search", async () => {
    await page.getByLabel("Show archived").check();
    await page.waitForURL(/archived=1/);
    await expect.poll(() => page.locator(".instance-list li.archived").innerText()).toContain("Old Pilot");
    await page.getByLabel("Show archived").uncheck();
    await page.waitForURL((url) => !url.search.includes("archived"));
  });

  it("finds an instance by one of its domains and opens it", async () => {
    await page.getByLabel("Search instances by name or domain").fill("COURSES.harbor");
    await page.getByLabel("Search instances by name or domain").press("Enter");
    await page.waitForURL(/q=COURSES\.harbor/);
    await page.locator(".instance-list li a").first().click();
    await page.waitForURL(new RegExp(`/instances/${harvardId}\\?q=`));
    expect(await page.locator("h1").innerText()).toBe("Harbor Learning");
    expect(await page.locator(".instance-list li.selected .name").innerText()).toBe("Harbor Learning");
    const launch = page.getByRole("button", { name: "Launch new AppServer" });
    expect(await launch.isEnabled()).toBe(true);
    expect(await page.locator("table.appservers tbody tr").count()).toBe(3);
    expect(await page.content()).not.toContain("do-not-show");
    await screenshot(page, "instance-page");
  });

  it("creates an API token and shows it once", async () => {
    await page.goto(`${t.url}/account/tokens`);
    await page.getByLabel("Name").fill("nightly report");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.locator("#new-token").innerText();
    expect(token).toMatch(/^ocim_/);
    expect(await page.locator("table.tokens tbody tr").innerText()).toContain("nightly report");
    await screenshot(page, "api-tokens");
    await page.goto(`${t.url}/account/tokens`);
    expect(await page.locator("#new-token").count()).toBe(0);
  });
});
