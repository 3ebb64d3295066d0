// The roll-out pages in real Chromium (issue 18): the form chooses instances by tag and shows them,
// a wrong wave size and threshold are told by their fields, the confirmation starts the roll-out,
// and its page follows each instance's progress without a reload. No worker runs here: the test
// moves the roll-out on with the worker's own command (advanceRollout), and the appservers along
// their lifecycle; status events go the real way (outbox → relay → Redis → socket.io).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, pageWithCookie, screenshot } from "../helpers/browser.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { startOutboxRelay, type OutboxRelay } from "../../src/jobs/relay-outbox.js";
import { advanceRollout } from "../../src/domain/rollouts/advance-rollout.js";
import { moveAppServerNow } from "../../src/domain/appservers/lifecycle.js";

describe("the roll-out form and progress page", () => {
  let t: LiveTestApp;
  let relay: OutboxRelay;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  const text = async (selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, " ").trim();
  const regionShows = (name: string, re: RegExp) => page.waitForFunction(
    ([n, source]) => new RegExp(source).test(((document.querySelector(`[data-live-region="${n}"]`) as HTMLElement | null)?.innerText ?? "").replace(/\s+/g, " ")),
    [name, re.source] as const, { timeout: 20_000 },
  );

  beforeAll(async () => {
    t = await startLiveApp();
    relay = startOutboxRelay(t.deps);
    for (const name of ["Pilot Alpha", "Pilot Beta", "Pilot Gamma"]) {
      const instance = await makeInstance(t.deps, { name, tags: ["pilot"] });
      await makeAppServer(t.deps, instance.id, { status: "running", isActive: true });
    }
    await makeInstance(t.deps, { name: "Production One", tags: ["production"] });
    const cookie = cookieOf(await t.loginAs("ada"));
    browser = await launchBrowser();
    page = await pageWithCookie(browser, t.url, cookie, { width: 1300, height: 900 });
    page.on("pageerror", (err) => errors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await t?.close();
  });

  it("chooses the instances by tag, tells a wrong wave size and threshold by their fields, and starts once confirmed", async () => {
    await page.goto(`${t.url}/`);
    await page.getByRole("link", { name: "Roll out…" }).click();
    await page.selectOption("#id_tag", "pilot");
    await page.fill("#id_waveSize", "0");
    await page.fill("#id_failureThreshold", "2");
    await page.getByRole("button", { name: "Review" }).click();
    expect(await text("#field-waveSize .field-error")).toBe("The wave size is how many instances are relaunched at once: a whole number from 1 to 50.");
    expect(await text("#field-failureThreshold .field-error")).toContain('The failure threshold is a ratio from 0 to 1, not "2"');
    expect(await page.getByRole("button", { name: "Start the roll-out…" }).count()).toBe(0);
    await screenshot(page, "rollout-form-errors");

    await page.fill("#id_waveSize", "2");
    await page.fill("#id_failureThreshold", "0.4");
    await page.getByRole("button", { name: "Review" }).click();
    expect(await text("#rollout-preview")).toBe("3 instances would be relaunched");
    expect(await page.locator("table.rollout-preview tbody tr td:first-child a").allInnerTexts()).toEqual(["Pilot Alpha", "Pilot Beta", "Pilot Gamma"]);
    await screenshot(page, "rollout-form-review");

    await page.getByRole("button", { name: "Start the roll-out…" }).click();
    const dialog = page.getByRole("dialog");
    expect(await dialog.innerText()).toContain("Relaunch 3 instances in waves of 2?");
    await Promise.all([page.waitForURL(/\/rollouts\/\d+$/), dialog.getByRole("button", { name: "Start the roll-out" }).click()]);
    expect(await text("h1")).toBe("Roll-out #1 running");
    expect(await text('[data-live-region="summary"]')).toContain("Wave 0 of 2 · 0 done, 0 failed, 0 in progress, 3 waiting");
  });

  it("shows each instance's progress as it happens, without a reload, and pauses on request", async () => {
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });
    // What the worker's advance-rollout job does once the start's outbox row is sent: wave 1 launches.
    expect(await advanceRollout(t.deps, { rolloutId: 1 })).toMatchObject({ status: "running", launched: 2 });
    await regionShows("items", /Pilot Alpha launching AppServer 2 new/);
    await regionShows("items", /Pilot Beta launching AppServer 2 new/);

    // Pilot Beta's VM never comes up; the next advance records it.
    const beta = await t.deps.db.appServer.findFirstOrThrow({ where: { instance: { name: "Pilot Beta" }, number: 2 } });
    await moveAppServerNow(t.deps, "error", { appServerId: beta.id, set: { failureSummary: "The VM did not boot." } });
    await advanceRollout(t.deps, { rolloutId: 1 });
    await regionShows("items", /Pilot Beta failed AppServer 2 ended error: The VM did not boot\./);
    await regionShows("summary", /0 done, 1 failed, 1 in progress, 1 waiting/);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await screenshot(page, "rollout-progress");

    await Promise.all([page.waitForURL(/\/rollouts\/1$/), page.getByRole("button", { name: "Pause" }).click()]);
    expect(await text("h1")).toBe("Roll-out #1 paused");
    expect(await text('[data-testid="rollout-reason"]')).toBe("Paused by ada.");
    expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
