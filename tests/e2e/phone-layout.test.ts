// Story 4 (issue 15): the console and the admin on a 390-px-wide phone, in real Chromium. On every
// page: no horizontal scroll of the page, and no link, button, field or title cut off or off
// screen (one inside a table that scrolls in its own box counts when that box is on screen).
// The same pages at 1440×900 and 1024×768 keep the instance list and the admin menu on the left.
// Screenshots: tests/artifacts/phone-*.png and desktop-<width>-*.png.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { createLogWriter } from "../../src/domain/logs/log-writer.js";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const TABLET = { width: 1024, height: 768 }; // landscape: still two columns

/** Runs in the page: what a person at this width cannot see or reach without scrolling the page sideways. */
function layoutProblems(): string[] {
  const width = window.innerWidth;
  const problems: string[] = [];
  const page = document.scrollingElement!;
  if (page.scrollWidth > width) problems.push(`the page is ${page.scrollWidth}px wide`);
  const name = (el: Element) => `<${el.tagName.toLowerCase()} class="${el.getAttribute("class") ?? ""}"> "${(el.textContent ?? "").trim().replace(/\s+/g, " ").slice(0, 40)}"`;
  for (const el of document.querySelectorAll("a, button, summary, input:not([type=hidden]), select, textarea, h1, h2")) {
    if (el.getClientRects().length === 0) continue; // not shown at all (display: none, [hidden])
    let reached: Element = el;
    let box = el.getBoundingClientRect();
    for (let box2: DOMRect, up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === "visible") continue;
      box2 = up.getBoundingClientRect();
      if (overflow === "auto" || overflow === "scroll") {
        reached = up; // scrolled into view inside `up`: then `up` must be on screen
        box = box2;
      } else if (box.left < box2.left - 1 || box.right > box2.right + 1) {
        problems.push(`${name(el)} is cut off by ${name(up)}`);
        break;
      }
    }
    if (box.left < -1 || box.right > width + 1) problems.push(`${name(reached)} spans ${Math.round(box.left)}–${Math.round(box.right)}px of ${width}`);
  }
  return [...new Set(problems)];
}

describe("the console on a phone", () => {
  let t: LiveTestApp;
  let browser: Browser;
  let signedIn: BrowserContext;
  let pages: { name: string; path: string }[];
  let otherPages: string[];

  beforeAll(async () => {
    t = await startLiveApp();
    const day = (d: number) => new Date(Date.UTC(2026, 10, d, 9, 30));
    const harbor = await makeInstance(t.deps, {
      name: "Harbor Learning Institute of Continuing Education", internalLmsDomain: "learn.harbor-continuing-education.example.com",
      externalDomains: ["courses.harbor-continuing-education.edu"], appserverCount: 2,
    });
    await makeAppServer(t.deps, harbor.id, { status: "terminated", vmStatus: "terminated", createdAt: day(2) });
    await makeAppServer(t.deps, harbor.id, { status: "running", vmStatus: "ready", isActive: true, publicIp: "10.0.4.21", createdAt: day(9) });
    await makeAppServer(t.deps, harbor.id, { status: "failed", vmStatus: "ready", publicIp: "10.0.4.23", failureSummary: "TASK [edxapp : migrate] fatal: [10.0.4.23]: FAILED! => {\"rc\": 1}", createdAt: day(11) });
    const running = await makeAppServer(t.deps, harbor.id, { status: "running", vmStatus: "ready", publicIp: "10.0.4.22", createdAt: day(12) });
    for (const name of ["Cedar University", "Nova Institute of Technology", "Quartz Academy"]) {
      await makeInstance(t.deps, { name, internalLmsDomain: `${name.toLowerCase().replace(/ /g, "-")}.example.org` });
    }
    const writer = createLogWriter(t.deps, { appServerId: running.id, secrets: [] });
    for (let i = 1; i <= 40; i++) await writer.write(`TASK [edxapp : install python requirements ${i}] ok: [10.0.4.22]`, "info");
    await writer.write(`fatal: /edx/app/edxapp/venvs/edxapp/lib/python3.11/site-packages/${"x".repeat(160)}/__init__.py not found`, "warn");
    await writer.close();
    pages = [
      { name: "instance-list", path: "/" },
      { name: "instance", path: `/instances/${harbor.id}` },
      { name: "appserver", path: `/appservers/${running.id}` },
      { name: "admin-changelist", path: "/admin/instances" },
      { name: "admin-change-form", path: `/admin/instances/${harbor.id}` },
    ];
    otherPages = [
      `/instances/${harbor.id}/preview-launch`, "/cleanup", "/ssh-access", "/orphans", "/account/tokens",
      "/admin", "/admin/instances/add", `/admin/instances/${harbor.id}/history`, `/admin/instances/${harbor.id}/delete`,
      "/admin/app-servers", "/admin/users", "/admin/audit-events", "/admin/data-services/add", "/admin/jobs",
    ];

    browser = await launchBrowser();
    const [cookie, value] = cookieOf(await t.loginAs("alice", { admin: true })).split("=") as [string, string];
    signedIn = await browser.newContext({ viewport: PHONE });
    await signedIn.addCookies([{ name: cookie, value, url: t.url }]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function open(page: Page, path: string): Promise<void> {
    const res = await page.goto(`${t.url}${path}`);
    expect(res?.status(), path).toBe(200);
  }

  it("shows every page at 390 px without sideways scrolling and with nothing cut off", async () => {
    const page = await signedIn.newPage();
    const found: Record<string, string[]> = {};
    for (const { name, path } of pages) {
      await open(page, path);
      if (name === "appserver") await page.waitForSelector(".log-line", { state: "attached" });
      expect(await page.evaluate(() => window.innerWidth)).toBe(PHONE.width);
      found[name] = await page.evaluate(layoutProblems);
      await screenshot(page, `phone-${name}`);
    }
    expect(found).toEqual(Object.fromEntries(pages.map(({ name }) => [name, []])));
  });

  it("shows the other console and admin pages at 390 px the same way", async () => {
    const page = await signedIn.newPage();
    const found: Record<string, string[]> = {};
    for (const path of otherPages) {
      await open(page, path);
      found[path] = await page.evaluate(layoutProblems);
      await screenshot(page, `phone${path.replace(/[/]+/g, "-")}`);
    }
    expect(found).toEqual(Object.fromEntries(otherPages.map((path) => [path, []])));
  });

  it("gives the log the page's width at 390 px, with its outline of plays and tasks above it", async () => {
    const harbor = await t.deps.db.instance.findFirstOrThrow({ where: { name: { startsWith: "Harbor" } } });
    const played = await makeAppServer(t.deps, harbor.id, { status: "running", vmStatus: "ready", publicIp: "10.0.4.24" });
    const writer = createLogWriter(t.deps, { appServerId: played.id, secrets: [] });
    await writer.write("PLAY [Configure instance(s)] *****************************************", "info");
    for (let i = 1; i <= 30; i++) await writer.write(`TASK [common : step ${i}] *****************************`, "info");
    await writer.close();
    const page = await signedIn.newPage();
    await open(page, `/appservers/${played.id}`);
    await page.waitForSelector("[data-log-outline]:not([hidden])");
    const box = async (selector: string) => (await page.locator(selector).boundingBox())!;
    const [log, outline, content] = [await box("[data-log-lines]"), await box("[data-log-outline]"), await box("main.page")];
    await screenshot(page, "phone-appserver-log");
    // The log is as wide as the page's content (its 12 px margins aside), not squeezed beside the outline.
    expect(log.width).toBeGreaterThan(content.width - 40);
    expect(outline.y + outline.height).toBeLessThanOrEqual(log.y);
    expect(await page.locator("[data-log-outline]").innerText()).toContain("Play Configure instance(s)");
  });

  it("keeps every item of the top navigation visible and on screen", async () => {
    const page = await signedIn.newPage();
    await open(page, "/");
    const links = page.locator(".topnav a");
    expect(await links.allInnerTexts()).toEqual(["Instances", "Roll-outs", "Cleanup plan", "SSH access", "Orphans", "Admin", "API tokens"]);
    for (const link of [...(await links.all()), page.getByRole("button", { name: "Log out" })]) {
      expect(await link.isVisible()).toBe(true);
      const box = (await link.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
  });

  it("shows the login page at 390 px", async () => {
    const page = await browser.newPage({ viewport: PHONE });
    await open(page, "/login");
    expect(await page.evaluate(layoutProblems)).toEqual([]);
    expect(await page.getByRole("link", { name: "Log in with GitHub" }).isVisible()).toBe(true);
    await screenshot(page, "phone-login");
  });

  it.each([DESKTOP, TABLET])("still puts the instance list and the admin menu on the left at $width px", async (size) => {
    const page = await signedIn.newPage();
    await page.setViewportSize(size);
    for (const { name, path } of pages) {
      await open(page, path);
      const [side, main] = name.startsWith("admin") ? [".admin-nav", ".admin-main"] : [".sidebar", "main"];
      if (name !== "appserver") {
        const sideBox = (await page.locator(side).boundingBox())!;
        const mainBox = (await page.locator(main).boundingBox())!;
        expect(sideBox.x, name).toBe(0);
        expect(sideBox.x + sideBox.width, name).toBeLessThanOrEqual(mainBox.x);
        expect(mainBox.y, name).toBe(sideBox.y);
      }
      expect(await page.evaluate(layoutProblems), name).toEqual([]);
      await screenshot(page, `desktop-${size.width}-${name}`);
    }
  });
});
