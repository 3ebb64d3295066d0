// Story (issue 16): a launch whose playbook fails, run for real (local provider: sshd on loopback,
// ansible-playbook, the demo playbook with DEMO_FAIL), read in Chromium: the failed line is red,
// the outline marks the failed task, and "First failure" puts that line in view.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { localVms, type LocalVms } from "../helpers/local-vms.js";
import { waitFor } from "../helpers/wait.js";
import { launchAppServer } from "../../src/domain/appservers/launch-appserver.js";
import { createDemoInstance } from "../../src/domain/instances/create-demo-instance.js";
import { startWorkers, type RunningWorkers } from "../../src/jobs/registry.js";
import { createProvisioningPorts } from "../../src/adapters/provisioning-ports.js";

const actor = { id: null, login: "tester" };

describe("a failed playbook run in the log viewer", () => {
  let vms: LocalVms;
  let t: LiveTestApp;
  let workers: RunningWorkers;
  let browser: Browser;

  beforeAll(async () => {
    vms = await localVms();
    t = await startLiveApp({}, vms.env);
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await workers?.close();
    await vms?.cleanup();
    await t?.close();
  });

  it("shows the failed task in red, marks it in the outline, and 'First failure' jumps to it", async () => {
    const demo = await createDemoInstance(t.deps, { actor });
    await t.deps.db.instance.update({ where: { id: demo.id }, data: { extraAnsibleVars: `${demo.extraAnsibleVars}DEMO_FAIL: true\n` } });
    const launched = await launchAppServer(t.deps, { instanceId: demo.id, actor });

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const [name, value] = cookieOf(await t.loginAs("alice", { admin: true })).split("=") as [string, string];
    await context.addCookies([{ name, value, url: t.url }]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    // Opened while it runs: the page follows the run live until it fails.
    await page.goto(`${t.url}/appservers/${launched.id}`);
    await waitFor("the run to fail", async () => {
      const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: launched.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 180_000, 500);
    await page.waitForFunction(() => document.querySelector("[data-log-state]")?.textContent === "Finished", undefined, { timeout: 30_000 });

    const fatal = await t.deps.db.logEntry.findFirstOrThrow({ where: { appServerId: launched.id, text: { startsWith: "fatal: [localhost]: FAILED!" } } });
    expect(fatal.level).toBe("error");
    // Scroll the log to its top, then ask for the first failure.
    await page.click("[data-log-start]");
    await page.waitForSelector("[data-log-first-failure]:not([hidden])");
    await page.click("text=First failure");
    const line = page.locator(`.log-line[data-seq="${fatal.seq}"]`);
    await line.waitFor();
    expect(await line.getAttribute("class")).toContain("log-target");
    expect(await line.evaluate((n) => getComputedStyle(n).color)).toBe("rgb(255, 123, 114)");
    expect(await line.locator(".log-text").textContent()).toContain("DEMO_FAIL is set");
    const inView = await line.evaluate((n) => {
      const r = n.getBoundingClientRect();
      const v = n.closest("[data-log-lines]")!.getBoundingClientRect();
      return r.top >= v.top && r.bottom <= v.bottom;
    });
    expect(inView).toBe(true);
    // The outline names the failed task (and its play) in red.
    await page.waitForSelector(".log-outline-failed");
    const failed = await page.$$eval(".log-outline-failed a", (links) => links.map((a) => a.textContent));
    expect(failed.at(-1)).toContain("Fail on purpose (DEMO_FAIL)");
    await screenshot(page, "log-viewer-failed-run");
    expect(errors).toEqual([]);
  }, 300_000); // a real VM and playbook run, on a shared machine
});
