// Story 3 of issue 16 in real Chromium: the fleet page with 200 instances in mixed states shows
// exactly the failing and the provisioning ones, and the sidebar's filters agree with it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { makeInstance } from "../helpers/factories.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import type { AppServerStatus } from "../../src/generated/prisma/client.ts";

const NOW = new Date("2026-12-01T12:00:00Z");

describe("the fleet page with 200 instances", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const failing: string[] = [];
  const provisioning: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({}, { now: () => NOW });
    // Instance i's appservers, oldest first: a mix of healthy, failing now, failed then relaunched,
    // provisioning, and never launched. Names mix upper and lower case.
    const shapes: AppServerStatus[][] = [["running"], ["running", "failed"], ["failed", "running"], ["running", "configuring"], [], ["error"], ["terminated", "waiting"], ["running", "terminated"]];
    for (let i = 0; i < 200; i++) {
      const name = `${i % 2 ? "site" : "Site"} ${String(i).padStart(3, "0")}`;
      const instance = await makeInstance(t.deps, { name, slug: `s${i}` });
      const shape = shapes[i % shapes.length]!;
      await t.deps.db.appServer.createMany({
        data: shape.map((status, n) => ({
          instanceId: instance.id, number: n + 1, name: `AppServer ${n + 1}`, providerKind: "local" as const, status,
          isActive: status === "running" && n === shape.indexOf("running"), configSnapshot: {},
          createdAt: new Date(NOW.getTime() - (shape.length - n) * 3_600_000 - i * 1000), statusChangedAt: new Date(NOW.getTime() - (shape.length - n) * 3_000_000),
        })),
      });
      const newest = shape.at(-1);
      if (newest === "failed" || newest === "error") failing.push(`${name} · AppServer ${shape.length}`);
      if (newest === "configuring" || newest === "waiting") provisioning.push(`${name} · AppServer ${shape.length}`);
    }
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Every row of a panel, following "N more" to the sidebar's filter when the panel is full. */
  async function listed(panel: string, state: string): Promise<string[]> {
    await page.goto(`${t.url}/`);
    const shown = await page.locator(`[data-panel="${panel}"] tbody tr td:first-child a`).allInnerTexts();
    const more = page.locator(`a[href="/?state=${state}"]`);
    if ((await more.count()) === 0) return shown;
    await more.first().click();
    await page.waitForURL(new RegExp(`state=${state}`));
    const names = new Set<string>();
    for (;;) {
      for (const n of await page.locator(".instance-list li .name").allInnerTexts()) names.add(n);
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      await next.click();
      await page.waitForLoadState();
    }
    return [...names];
  }

  it("shows exactly the failing appservers, and the sidebar's Failing filter the same instances", async () => {
    await page.goto(`${t.url}/`);
    await expect.poll(() => page.locator("#fleet-failing .badge").innerText()).toBe(String(failing.length));
    await screenshot(page, "fleet-home-200");
    const shown = await page.locator('[data-panel="failing"] tbody tr td:first-child a').allInnerTexts();
    expect(shown).toHaveLength(10);
    for (const row of shown) expect(failing).toContain(row);
    const instances = await listed("failing", "failing");
    expect(instances.sort()).toEqual(failing.map((f) => f.split(" · ")[0]!).sort());
    await screenshot(page, "fleet-sidebar-failing");
  });

  it("shows exactly the provisioning appservers, and the sidebar's Provisioning filter the same instances", async () => {
    await page.goto(`${t.url}/`);
    await expect.poll(() => page.locator("#fleet-provisioning .badge").innerText()).toBe(String(provisioning.length));
    const shown = await page.locator('[data-panel="provisioning"] tbody tr td:first-child a').allInnerTexts();
    for (const row of shown) expect(provisioning).toContain(row);
    const instances = await listed("provisioning", "provisioning");
    expect(instances.sort()).toEqual(provisioning.map((f) => f.split(" · ")[0]!).sort());
  });

  it("sorts the sidebar by name whatever the case, and pages past 100", async () => {
    await page.goto(`${t.url}/`);
    const first = await page.locator(".instance-list li .name").allInnerTexts();
    expect(first).toHaveLength(100);
    expect(first.slice(0, 3)).toEqual(["Site 000", "site 001", "Site 002"]);
    await page.locator('a[rel="next"]').click();
    await page.waitForURL(/page=2/);
    const second = await page.locator(".instance-list li .name").allInnerTexts();
    expect(second[0]).toBe("Site 100");
    expect(second.at(-1)).toBe("site 199");
    await expect.poll(() => page.locator(".pager").innerText()).toContain("101–200 of 200");
  });
});
