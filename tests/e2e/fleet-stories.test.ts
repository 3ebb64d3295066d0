// Stories 1 and 2 of issue 16 in real Chromium, end to end: local-provider VMs (real sshd), the demo
// playbook run by real ansible-playbook, the provisioning worker, GitHub as the in-test server.
// Story 2 makes real Unix accounts (the SSH-access sync's useradd), so it runs as root (or in CI,
// where a non-root run fails loudly); the accounts carry a unique prefix and are removed afterwards.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startTestApp, TEST_ORG, type TestApp } from "../helpers/app.js";
import { localVms, type LocalVms } from "../helpers/local-vms.js";
import { waitFor } from "../helpers/wait.js";
import { cookieOf } from "../helpers/live.js";
import { startWorkers, type RunningWorkers } from "../../src/jobs/registry.js";
import { createProvisioningPorts } from "../../src/adapters/provisioning-ports.js";
import { createDemoInstance } from "../../src/domain/instances/create-demo-instance.js";
import { fetchGithubKeys } from "../../src/domain/sshkeys/fetch-github-keys.js";
import { accountName, groupName, syncSshAccess } from "../../src/domain/sshkeys/sync-ssh-access.js";

const run = promisify(execFile);
const actor = { id: null, login: "tester" };
const LOGIN = "kim-lee";

describe.runIf(process.getuid?.() === 0 || Boolean(process.env.CI))("fleet stories: change, diff, launch, switch; fail, ssh in, fix, relaunch", () => {
  const prefix = `s${randomBytes(3).toString("hex")}-`;
  let vms: LocalVms;
  let t: TestApp;
  let workers: RunningWorkers;
  let browser: Browser;
  let page: Page;
  let keyDir: string;

  beforeAll(async () => {
    vms = await localVms();
    // The in-test GitHub's token for the organization's member list (FakeGithub.appToken).
    t = await startTestApp({ ...vms.env, SSH_ACCOUNT_PREFIX: prefix, GITHUB_TOKEN: "ghp_app_token" });
    workers = startWorkers(t.deps, { provisioning: createProvisioningPorts(t.deps) });
    keyDir = mkdtempSync(path.join(os.tmpdir(), "ocim-story-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kim@test", "-f", path.join(keyDir, "id")]);
    const cookie = cookieOf(await t.loginAs(LOGIN, { admin: true }));
    // A member of the organization with a key on GitHub (logging in added the member without one).
    t.github.addUser({ login: LOGIN, keys: [readFileSync(path.join(keyDir, "id.pub"), "utf8").trim()] }, TEST_ORG);
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: t.url }]);
    page = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    execFileSync("sh", ["-c", `for u in $(getent passwd | cut -d: -f1 | grep '^${prefix}'); do userdel -r "$u" 2>/dev/null || userdel "$u"; rm -f "/etc/sudoers.d/ocim-$u"; done; groupdel ${groupName(prefix)} 2>/dev/null; true`]);
    await browser?.close();
    await workers?.close();
    await vms?.cleanup();
    await t?.close();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  const finished = (id: number) => waitFor(`appserver ${id} to finish provisioning`, async () => {
    const row = await t.deps.db.appServer.findUniqueOrThrow({ where: { id } });
    return ["running", "failed", "error"].includes(row.status) ? row : undefined;
  }, 240_000, 500);

  /** The appserver whose page is open (/instances/<id>/appservers/<number>): its database id. */
  async function shownAppServerId(): Promise<number> {
    const [, instanceId, number] = /^\/instances\/(\d+)\/appservers\/(\d+)$/.exec(new URL(page.url()).pathname)!;
    return (await t.deps.db.appServer.findFirstOrThrow({ where: { instanceId: Number(instanceId), number: Number(number) } })).id;
  }

  /** Clicks the instance page's launch button; the new appserver's id from the page it lands on. */
  async function launchFromPage(instanceId: number): Promise<number> {
    await page.goto(`${t.url}/instances/${instanceId}`);
    await page.click("button:has-text('Launch new AppServer')");
    await page.waitForURL(/\/appservers\/\d+$/);
    return shownAppServerId();
  }

  /** Opens a confirmation (views/_confirm.ejs) and confirms it. */
  async function confirm(opener: string, action: string) {
    await page.getByRole("button", { name: opener, exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: action, exact: true }).click();
  }

  async function setExtraVariables(instanceId: number, edit: (yaml: string) => string) {
    await page.goto(`${t.url}/admin/instances/${instanceId}`);
    await page.fill("#id_extraAnsibleVars", edit(await page.inputValue("#id_extraAnsibleVars")));
    await page.click("button[value=continue]");
    await expect.poll(() => page.locator(".flashes .flash-ok").count()).toBeGreaterThan(0);
  }

  it("story 1: the diff shows an edit, a second appserver takes over in one confirmed switch, the first keeps its frozen configuration and is terminated", async () => {
    const demo = await createDemoInstance(t.deps, { actor });
    const first = await launchFromPage(demo.id);
    expect((await finished(first)).status).toBe("running");
    await page.goto(`${t.url}/appservers/${first}`);
    await confirm("Activate…", "Activate");
    await expect.poll(() => page.locator(".flashes .flash-ok").innerText()).toContain("Activated.");

    await setExtraVariables(demo.id, (yaml) => `${yaml.trimEnd()}\nEDXAPP_PLATFORM_NAME: Story One v2\n`);
    await page.goto(`${t.url}/appservers/${first}`);
    await page.click("text=against the instance's current settings");
    await expect.poll(() => page.locator("table.variables-diff").innerText()).toMatch(/EDXAPP_PLATFORM_NAME\s+changed\s+Demo\s+Story One v2/);
    await screenshot(page, "story1-diff");

    const second = await launchFromPage(demo.id);
    expect((await finished(second)).status).toBe("running");
    await page.goto(`${t.url}/appservers/${first}`);
    const frozen = await page.locator("pre.value-block").innerText();
    expect(frozen).toContain("EDXAPP_LMS_NGINX_PORT");
    expect(frozen).not.toContain("Story One v2");

    await page.goto(`${t.url}/appservers/${second}`);
    await page.getByRole("button", { name: "Activate and deactivate the others…", exact: true }).click();
    await screenshot(page, "story1-confirm-switch");
    await page.getByRole("dialog").getByRole("button", { name: "Activate AppServer 2 and deactivate AppServer 1", exact: true }).click();
    await expect.poll(() => page.locator(".flashes .flash-ok").innerText()).toContain("Activated; 1 other appserver deactivated: AppServer 1.");
    const rows = await t.deps.db.appServer.findMany({ where: { instanceId: demo.id }, orderBy: { number: "asc" }, select: { isActive: true } });
    expect(rows).toEqual([{ isActive: false }, { isActive: true }]);

    await page.goto(`${t.url}/appservers/${first}`);
    await confirm("Terminate…", "Terminate AppServer 1");
    await expect.poll(() => page.locator(".flashes .flash-ok").innerText()).toContain("Terminated");
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: first } })).status).toBe("terminated");
  }, 600_000);

  it("story 2: a failed launch shows an ssh command that logs a member in with their GitHub key; after the fix, Relaunch reaches running", async () => {
    const demo = await createDemoInstance(t.deps, { actor });
    await setExtraVariables(demo.id, (yaml) => `${yaml.trimEnd()}\nDEMO_FAIL: true\n`);
    const failed = await launchFromPage(demo.id);
    expect((await finished(failed)).status).toBe("failed");
    await page.goto(`${t.url}/appservers/${failed}`);
    // No command yet, and why: before the test's fetch, or after a periodic one that ran before the
    // member's key was added to the in-test GitHub.
    await expect.poll(() => page.locator("[data-ssh-none]").innerText()).toMatch(/keys have not been fetched|Not synced yet|You have no SSH key on GitHub/);

    // The periodic SSH-access job: members' keys from GitHub, then accounts on running and failed VMs.
    await fetchGithubKeys(t.deps);
    expect((await syncSshAccess(t.deps, createProvisioningPorts(t.deps))).failed).toEqual([]);
    await page.reload();
    const command = await page.locator("[data-ssh-command]").innerText();
    expect(command).toMatch(new RegExp(`^ssh (-p \\d+ )?${accountName(prefix, LOGIN)}@${vms.addressPrefix.replaceAll(".", "\\.")}\\.\\d+$`));
    await screenshot(page, "story2-ssh-command");
    // The command as shown, run by OpenSSH's own client with the member's key.
    const args = command.split(" ").slice(1);
    const res = await run("ssh", ["-i", path.join(keyDir, "id"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
      ...args, "id -un; sudo -n true && echo sudo-ok"], { timeout: 30_000 });
    expect(res.stdout).toBe(`${accountName(prefix, LOGIN)}\nsudo-ok\n`);

    await setExtraVariables(demo.id, (yaml) => yaml.replace(/^DEMO_FAIL: true\n?/m, ""));
    await page.goto(`${t.url}/appservers/${failed}`);
    await page.getByRole("button", { name: "Relaunch…", exact: true }).click();
    await screenshot(page, "story2-relaunch");
    const failedPage = new URL(page.url()).pathname;
    await page.getByRole("dialog").getByRole("button", { name: "Relaunch with current settings", exact: true }).click();
    await page.waitForURL((url) => /\/appservers\/\d+$/.test(url.pathname) && url.pathname !== failedPage);
    const relaunched = await shownAppServerId();
    expect((await finished(relaunched)).status).toBe("running");
    await page.reload();
    await expect.poll(() => page.locator(`.badge[data-status-for="${relaunched}"]`).first().innerText()).toBe("running");
    await screenshot(page, "story2-running");
  }, 600_000);
});
