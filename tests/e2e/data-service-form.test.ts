// The data-service form in a real Chromium: a wrong endpoint comes back next to its field, a server
// that does not answer comes back at the top with what failed, the typed settings and credentials
// stay (no one types a key twice), and nothing is saved. The screenshots are for a person to check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { freePort } from "../helpers/redis-server.js";

describe("data-service form in a browser", () => {
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

  it("shows a wrong value next to its field and a failed connection at the top, and saves nothing", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    await page.goto(`${t.url}/admin/data-services/add`);
    await page.fill("#id_name", "Campus storage");
    await page.selectOption("#id_kind", "s3");
    await page.fill("#id_settings", '{"endpoint": "minio.local:9000"}');
    await page.fill("#id_credentials", '{"accessKeyId": "AKIA1", "secretAccessKey": "browser-secret-9"}');
    await page.click("button[value=list]");
    await page.waitForSelector(".errornote");
    expect(await page.textContent("#field-settings .field-error")).toContain('"endpoint" must be an http(s) URL');
    expect(await page.inputValue("#id_settings")).toBe('{"endpoint": "minio.local:9000"}');
    expect(await page.inputValue("#id_credentials")).toBe('{"accessKeyId": "AKIA1", "secretAccessKey": "browser-secret-9"}');
    await screenshot(page, "data-service-form-errors");

    const endpoint = `http://127.0.0.1:${await freePort()}`;
    await page.fill("#id_settings", JSON.stringify({ endpoint, forcePathStyle: true }));
    await page.click("button[value=list]"); // the credentials are still in their box
    await page.waitForSelector(".errornote");
    expect(await page.textContent(".errornote")).toContain(`The connection test failed, so nothing was saved: Storage ${endpoint}: ListBuckets failed: connect ECONNREFUSED`);
    expect(await page.textContent(".errornote")).not.toContain("browser-secret-9");
    await screenshot(page, "data-service-form-connection");
    expect(await t.deps.db.dataService.count()).toBe(0);
  });
});
