// "Preview launch" in real Chromium: from the instance page, the link next to "Launch new AppServer"
// opens what a launch would send, with a changed variable marked against the active appserver.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { makeInstance } from "../helpers/factories.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { launchAppServer } from "../../src/domain/appservers/launch-appserver.js";

describe("preview launch in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let instanceId: number;

  beforeAll(async () => {
    t = await startTestApp();
    const instance = await makeInstance(t.deps, {
      name: "Cedar University", slug: "cedar", recipe: "tutor", openedxRelease: "teak", tutorPlugins: ["mfe", "tutor-indigo"],
      extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Cedar\nEDXAPP_EMAIL_HOST_PASSWORD: smtp-pass-4471\n",
    });
    instanceId = instance.id;
    const as = await launchAppServer(t.deps, { instanceId, actor: { id: null, login: "ocim" } });
    await t.deps.db.appServer.update({ where: { id: as.id }, data: { status: "running", isActive: true } });
    await t.deps.db.instance.update({ where: { id: instanceId }, data: { extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Cedar University\nEDXAPP_EMAIL_HOST_PASSWORD: smtp-pass-4471\n" } });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("opens from the instance page and marks the changed variable", async () => {
    await page.goto(`${t.url}/instances/${instanceId}`);
    expect(await page.locator("section[aria-labelledby=settings-title] dl.settings").innerText()).toMatch(/Recipe\s+tutor · Tutor \(Docker, current releases\)\s+Open edX release\s+teak \(Tutor 20\)\s+Tutor plugins\s+mfe, tutor-indigo/);
    await page.getByRole("link", { name: "Preview launch" }).click();
    await page.waitForURL(new RegExp(`/instances/${instanceId}/preview-launch$`));
    expect(await page.locator("h1").innerText()).toBe("Preview launch: Cedar University");
    const changed = page.locator("table.variables-diff tr.changed", { hasText: "EDXAPP_PLATFORM_NAME" });
    expect((await changed.innerText()).split("\t").map((c) => c.trim())).toEqual(["EDXAPP_PLATFORM_NAME", "changed", "Cedar", "Cedar University"]);
    expect(await page.locator("table.variables-diff tr", { hasText: "EDXAPP_EMAIL_HOST_PASSWORD" }).count()).toBe(0);
    expect(await page.content()).not.toContain("smtp-pass-4471");
    await screenshot(page, "preview-launch");
  });
});
