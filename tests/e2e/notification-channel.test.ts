// The notification channel form in a real Chromium: a wrong URL comes back next to its field with
// the ticked events still ticked; fixed, the channel's page has the test button, whose delivery
// shows in the log below the form (no worker runs here: it stays pending). Screenshots for a person.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { makeInstance } from "../helpers/factories.js";

describe("notification channel form in a browser", () => {
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

  it("refuses a wrong URL next to the field, keeps the boxes, then saves and queues a test", async () => {
    const site = await makeInstance(t.deps, { name: "Demo university" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${t.url}/login/${await createLoginLink(t.deps)}`);
    await page.goto(`${t.url}/admin/notification-channels/add`);
    await page.fill("#id_name", "Ops Slack");
    await page.selectOption("#id_kind", "webhook");
    await page.fill("#id_target", "hooks.slack.com/services/T000/B000/XXXX");
    await page.selectOption("#id_instanceId", String(site.id));
    await page.check('input[name=events][value="appserver.terminated"]');
    await page.check("#id_slackFormat");
    await page.click("button[value=continue]");
    await page.waitForSelector(".errornote");
    expect(await page.textContent("#field-target .field-error")).toContain("is not a web address");
    // What was ticked stays ticked (the defaults too), what was typed stays typed.
    expect(await page.isChecked('input[name=events][value="appserver.terminated"]')).toBe(true);
    expect(await page.isChecked('input[name=events][value="launch.failed"]')).toBe(true);
    expect(await page.isChecked('input[name=events][value="launch.succeeded"]')).toBe(false);
    expect(await page.inputValue("#id_instanceId")).toBe(String(site.id));
    expect(await t.deps.db.notificationChannel.count()).toBe(0);
    await screenshot(page, "notification-channel-errors");

    await page.fill("#id_target", "https://hooks.slack.com/services/T000/B000/XXXX");
    await page.fill("#id_secret", "signing-secret-123");
    await page.click("button[value=continue]");
    await page.waitForSelector("text=was added");
    await page.click("button:has-text('Send test notification')");
    await page.waitForSelector("text=is queued");
    const log = await page.textContent("section[aria-label^='Delivery log']");
    expect(log).toContain("Test notification to Ops Slack");
    expect(log).toContain("pending");
    expect(await page.content()).not.toContain("signing-secret-123");
    const saved = await t.deps.db.notificationChannel.findUniqueOrThrow({ where: { name: "Ops Slack" } });
    expect(saved).toMatchObject({ kind: "webhook", instanceId: site.id, slackFormat: true, events: ["launch.failed", "appserver.terminated", "balancer.apply_failed"] });
    await screenshot(page, "notification-channel-page");

    // This console has no SMTP_URL: an email channel is saved, and the admin is told its mails will fail.
    await page.goto(`${t.url}/admin/notification-channels/add`);
    await page.fill("#id_name", "Ops mail");
    await page.selectOption("#id_kind", "email");
    await page.fill("#id_target", "ops@example.org");
    await page.click("button[value=continue]");
    await page.waitForSelector("text=was added");
    expect(await page.textContent("body")).toContain("SMTP_URL is not set, so its emails will fail until it is");
  });
});
