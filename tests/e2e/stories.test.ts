// Issue 15's stories in real Chromium, with every part real but GitHub (the in-test GitHub):
//  1. log in with GitHub → create an instance in the admin, first with a mistake → open it →
//     Launch → the log grows and `running` appears with the link, without a reload → open the
//     authenticated link → Activate (confirmed) → the domain answers through haproxy.
//     The worker provisions a local VM (sshd on loopback) with ansible-playbook from a git repo.
//  2. someone outside the organization cannot get in; an operator cannot open the admin area.
// Screenshots in tests/artifacts/story-*.png.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { TEST_ORG } from "../helpers/app.js";
import { localVms, type LocalVms } from "../helpers/local-vms.js";
import { disposeLoadBalancer, lbGet, makeLoadBalancer } from "../helpers/lb.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "../helpers/git-repo.js";
import { waitFor } from "../helpers/wait.js";
import { freePort } from "../../src/embedded/processes.js";
import { startWorkers, type RunningWorkers } from "../../src/jobs/registry.js";
import { createProvisioningPorts } from "../../src/adapters/provisioning-ports.js";

// The test appserver answers its LMS domain only (as Tutor's Caddy routes by host name), and
// /heartbeat only. An LMS also answers its home page, and the authenticated link, which names the
// VM by its address, reaches the LMS's default site: the same server, answering both. Its 401
// asks for the password as nginx's auth_basic does (WWW-Authenticate, RFC 7617): a browser sends
// the link's credentials only when asked.
const STORY_PLAYBOOK = QUICK_PLAYBOOK
  .replace(`if host != settings["host"]:`, `if host not in (settings["host"], settings["bind"]):`)
  .replace(`if self.path != "/heartbeat":`, `if self.path not in ("/heartbeat", "/"):`)
  .replace("                  self.send_response(status)\n", [
    "                  self.send_response(status)",
    "                  if status == 401:",
    "                      self.send_header('WWW-Authenticate', 'Basic realm=\"appserver\"')",
    "",
  ].join("\n"));

describe("stories in a browser", () => {
  let t: LiveTestApp;
  let vms: LocalVms;
  let workers: RunningWorkers;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let lbPort: number;
  let repo: ReturnType<typeof makeGitRepo>;
  let browser: Browser;

  /** A fresh browser (no cookies) signed in to the in-test GitHub as `login`, at the console's login. */
  async function githubBrowser(login: string): Promise<{ context: BrowserContext; page: Page }> {
    t.github.browserUser = login;
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${t.url}/login`);
    await page.getByRole("link", { name: /GitHub/ }).click();
    return { context, page };
  }

  beforeAll(async () => {
    vms = await localVms();
    lbPort = await freePort();
    t = await startLiveApp({}, { ...vms.env, LB_HTTP_PORT: String(lbPort), HAPROXY_TIMEOUT_SECONDS: "20" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    lb = await makeLoadBalancer(t.deps);
    repo = makeGitRepo({ "playbooks/story.yml": STORY_PLAYBOOK });
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await workers?.close();
    await vms?.cleanup();
    await disposeLoadBalancer(lb);
    await t?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  it("1. an admin logs in with GitHub, creates an instance, launches it, follows it live and activates it", async () => {
    await t.deps.db.user.create({ data: { githubLogin: "sam", role: "admin" } });
    t.github.addUser({ login: "sam" }, TEST_ORG);
    const { context, page } = await githubBrowser("sam");
    await page.waitForURL(`${t.url}/`);
    expect(await page.locator(".who").innerText()).toContain("sam");

    // A mistake first: a clear message next to the field, nothing saved.
    await page.getByRole("link", { name: "Admin" }).click();
    await page.goto(`${t.url}/admin/instances/add`);
    await page.fill("#id_name", "Story College");
    await page.fill("#id_internalLmsDomain", "lms story example");
    await page.selectOption("#id_recipe", "custom");
    await page.fill("#id_configurationRepoUrl", repo.url);
    await page.fill("#id_configurationBranch", repo.branch);
    await page.fill("#id_playbookPath", "playbooks/story.yml");
    await page.click("button[value=list]");
    await page.waitForSelector(".errornote");
    expect(await page.textContent("#field-internalLmsDomain .field-error")).toMatch(/not a valid domain/);
    expect(await page.inputValue("#id_name")).toBe("Story College");
    expect(await t.deps.db.instance.count()).toBe(0);
    await screenshot(page, "story-1-form-mistake");
    await page.fill("#id_internalLmsDomain", "lms.story.example.com");
    await page.click("button[value=list]");
    await page.waitForSelector(".flash-ok");
    const instance = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Story College" } });
    expect(instance.loadBalancerId).toBe(lb.id);

    // Open it from the console, and launch.
    await page.getByRole("banner").getByRole("link", { name: "Instances" }).click();
    await page.locator(".instance-list li a", { hasText: "Story College" }).click();
    await page.waitForURL(`${t.url}/instances/${instance.id}`);
    await page.getByRole("button", { name: "Launch new AppServer" }).click();
    await page.waitForURL(/\/appservers\/\d+$/);
    // The page of the instance's appserver number N (/instances/<id>/appservers/<N>).
    const number = Number(new URL(page.url()).pathname.split("/").pop());
    const appServerId = (await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: instance.id, number } })).id;
    await page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });

    // The log grows and `running` comes with the link, while the page stays the same document.
    await page.waitForFunction(() => [...document.querySelectorAll(".log-line")].some((l) => l.textContent?.includes("Requesting VM")), null, { timeout: 60_000 });
    await page.waitForFunction(() => [...document.querySelectorAll(".log-line")].some((l) => l.textContent?.includes('"msg": "hello"')), null, { timeout: 180_000 });
    await page.waitForFunction(() => document.querySelector('[data-live-region="title"] .badge')?.textContent === "running", null, { timeout: 180_000 });
    const link = page.locator('[data-live-region="status"] a.mono');
    await link.waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The badge follows the status message at once; the region's actions come with its re-render.
    await page.waitForFunction(() => !document.querySelector('[data-live-region="title"]')?.textContent?.includes("Cancel provisioning"), null, { timeout: 20_000 });
    expect(await page.locator('[data-live-region="title"]').innerText()).toContain("Activate");
    expect(await page.locator(".log-line").count()).toBeGreaterThan(10);
    await screenshot(page, "story-1-running");

    // The authenticated link reaches the new appserver, password included.
    const href = (await link.getAttribute("href"))!;
    const ip = (await t.deps.db.appServer.findUniqueOrThrow({ where: { id: appServerId } })).publicIp!;
    expect(href).toMatch(new RegExp(`^http://[^:]+:[^@]+@${ip.replace(/\./g, "\\.")}/$`));
    const tryIt = await context.newPage();
    const tried = await tryIt.goto(href);
    expect(tried?.status()).toBe(200);
    expect(await tryIt.locator("body").innerText()).toBe("OK");
    await tryIt.close();

    // Activate, confirmed: the domain answers through haproxy.
    expect((await lbGet(lbPort, "lms.story.example.com")).status).not.toBe(200);
    await page.getByRole("button", { name: "Activate…", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Activate", exact: true }).click();
    await page.waitForSelector(".flash-ok");
    expect(await page.locator(".flash-ok").innerText()).toBe("Activated.");
    const served = await waitFor("the domain to answer through haproxy", async () => {
      const res = await lbGet(lbPort, "lms.story.example.com").catch(() => null);
      return res?.status === 200 ? res : undefined;
    }, 60_000);
    expect(served.text).toBe("OK");
    await screenshot(page, "story-1-active");
    await context.close();
  }, 420_000);

  it("2. someone outside the organization cannot get in; an operator cannot open the admin area", async () => {
    t.github.addUser({ login: "eve" });
    const outsider = await githubBrowser("eve");
    await outsider.page.waitForSelector("h1");
    expect(await outsider.page.locator("h1").innerText()).toBe("Access refused");
    expect(await outsider.page.locator(".error-text").innerText()).toContain(TEST_ORG);
    await screenshot(outsider.page, "story-2-outsider");
    await outsider.page.goto(`${t.url}/`);
    expect(new URL(outsider.page.url()).pathname).toBe("/login");
    expect(await t.deps.db.user.count({ where: { githubLogin: "eve" } })).toBe(0);
    await outsider.context.close();

    t.github.addUser({ login: "olga" }, TEST_ORG);
    const operator = await githubBrowser("olga");
    await operator.page.waitForURL(`${t.url}/`);
    expect(await operator.page.locator(".topnav").innerText()).not.toContain("Admin");
    const res = await operator.page.goto(`${t.url}/admin/instances`);
    expect(res?.status()).toBe(403);
    expect(await operator.page.locator("main").innerText()).toContain("Only admins may use the admin area.");
    await screenshot(operator.page, "story-2-operator");
    await operator.context.close();
  });
});
