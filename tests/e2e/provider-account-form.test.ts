// The provider account form in a real Chromium against the in-test OpenStack: a wrong value comes
// back next to its field with the typed settings kept and the password not; once saved, the page
// says which credentials are set and "Test connection" shows what it found. Screenshots are for a
// person to check.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { FakeOpenstack } from "../helpers/fake-openstack.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

describe("provider account form in a browser", () => {
  let t: TestApp;
  let browser: Browser;
  let cloud: FakeOpenstack;
  beforeAll(async () => {
    cloud = await new FakeOpenstack().start();
    t = await startTestApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await cloud?.stop();
  });

  it("fills the form, gets a wrong port back next to its field, saves, and tests the connection", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    const fillCredentials = async () => {
      await page.fill("#id_username", cloud.username);
      await page.fill("#id_password", cloud.password);
      await page.fill("#id_sshPrivateKey", KEY);
    };
    await page.goto(`${t.url}/admin/provider-accounts/add`);
    await page.fill("#id_name", "Campus cloud");
    await page.selectOption("#id_kind", "local");
    expect(await page.isVisible("#id_authUrl")).toBe(false); // a local account has no OpenStack fields
    await page.selectOption("#id_kind", "openstack");
    expect(await page.isVisible("#id_authUrl")).toBe(true);
    await page.fill("#id_authUrl", cloud.authUrl);
    await page.fill("#id_projectName", cloud.projectName);
    await page.fill("#id_flavorRef", "m1.medium");
    await page.fill("#id_imageRef", "ubuntu-22.04");
    await page.fill("#id_keyName", "ocim-key");
    await page.fill("#id_floatingNetwork", "public");
    await page.fill("#id_networks", "private");
    await page.fill("#id_sshPort", "-1");
    await page.selectOption("#id_auth", "password");
    await fillCredentials();
    await page.click("button[value=continue]");
    await page.waitForSelector(".errornote");
    expect(await page.textContent("#field-sshPort .field-error")).toBe("Must be at least 1.");
    expect(await page.inputValue("#id_authUrl")).toBe(cloud.authUrl);
    expect(await page.inputValue("#id_password")).toBe(cloud.password);
    expect(await page.inputValue("#id_sshPrivateKey")).toBe(KEY);
    await screenshot(page, "provider-account-form-errors");
    expect(await t.deps.db.providerAccount.count()).toBe(0);

    await page.fill("#id_sshPort", "22");
    await page.click("button[value=continue]");
    await page.waitForSelector(".flash-ok");
    expect(await page.textContent(".readonly-panel")).toContain("set (encrypted): user name, password, SSH private key");

    await page.click("button:has-text('Test connection')");
    const flash = page.locator(".flash", { hasText: "connection test" });
    await flash.waitFor();
    const result = (await flash.textContent()) ?? "";
    expect(await flash.getAttribute("class")).toContain("flash-ok");
    expect(result).toContain('The connection test of "Campus cloud" worked.');
    expect(result).toContain('Flavor "m1.medium": found (id 3).');
    expect(result).toContain('Key pair "ocim-key": found');
    expect(await page.content()).not.toContain(cloud.password);
    await screenshot(page, "provider-account-test-connection");
  });
});
