// Issue 15, "Broken" 1, 2, 3, 6 and 7 in real Chromium: the admin link leads to the admin form; the
// appserver page and the instance page follow a launch without a reload (steps with their times,
// IP, link, actions, failure, active state), an action no longer valid disappears and a stale one
// is answered on the page; a terminated appserver shows how long provisioning took and no address;
// every action that changes what a site serves asks first, and Escape closes the question.
// Status events go the real way: lifecycle transition → outbox → relay → Redis → socket.io.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, pageWithCookie, screenshot } from "../helpers/browser.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { startOutboxRelay, type OutboxRelay } from "../../src/jobs/relay-outbox.js";
import { launchAppServer } from "../../src/domain/appservers/launch-appserver.js";
import { moveAppServerNow } from "../../src/domain/appservers/lifecycle.js";
import { activateAppServer } from "../../src/domain/appservers/activation.js";
import { setMaintenance } from "../../src/domain/instances/set-maintenance.js";
import { beginStep } from "../../src/domain/provisioning/provision-steps.js";
import { createApiToken } from "../../src/domain/auth/api-tokens.js";
import { basicAuthFor } from "../../src/domain/instances/secret.js";
import { FakeAppServer } from "../helpers/fake-appserver.js";

const colleague = { id: null, login: "colleague" };

describe("the console follows a launch live, and asks before it acts", () => {
  let t: LiveTestApp;
  let relay: OutboxRelay;
  let browser: Browser;
  let page: Page;
  let instance: Awaited<ReturnType<typeof makeInstance>>;
  // What answers /heartbeat for the appservers here (activation asks it first): 127.0.0.1:<port>.
  let site: FakeAppServer;
  const errors: string[] = [];

  const text = async (selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, " ").trim();
  const regionText = (name: string) => text(`[data-live-region="${name}"]`);
  /** Waits until the region's text matches; the page is never reloaded (checked by markNoReload). */
  const regionShows = (name: string, re: RegExp) => page.waitForFunction(
    ([n, source]) => new RegExp(source).test(((document.querySelector(`[data-live-region="${n}"]`) as HTMLElement | null)?.innerText ?? "").replace(/\s+/g, " ")),
    [name, re.source] as const, { timeout: 20_000 },
  );
  /** Waits until the element's text (spaces folded) is `want`, without a reload. */
  const textShows = (selector: string, want: string) => page.waitForFunction(
    ([sel, w]) => (document.querySelector(sel) as HTMLElement | null)?.innerText.replace(/\s+/g, " ").trim() === w,
    [selector, want] as const, { timeout: 20_000 },
  );
  /** An instance with one running, active appserver, its page open (and followed for reloads). */
  const openServingInstance = async (name: string) => {
    const instance = await makeInstance(t.deps, { name });
    await makeAppServer(t.deps, instance.id, { status: "running", vmStatus: "ready", isActive: true });
    await page.goto(`${t.url}/instances/${instance.id}`);
    await markNoReload();
    return instance;
  };
  const markNoReload = () => page.evaluate(() => { (window as unknown as { sameDocument: boolean }).sameDocument = true; });
  const stillSameDocument = () => page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument === true);
  const step = (id: number, name: Parameters<typeof beginStep>[2]) => beginStep(t.deps, id, name);
  const move = (id: number, name: Parameters<typeof moveAppServerNow>[1], set = {}, completesStep?: Parameters<typeof beginStep>[2]) =>
    moveAppServerNow(t.deps, name, { appServerId: id, set, completesStep });

  beforeAll(async () => {
    t = await startLiveApp();
    relay = startOutboxRelay(t.deps);
    instance = await makeInstance(t.deps, { name: "Live University", internalLmsDomain: "lms.live.example.com" });
    site = await new FakeAppServer("live", basicAuthFor(t.deps.secrets, instance)).start();
    instance = await t.deps.db.instance.update({ where: { id: instance.id }, data: { extraAnsibleVars: `EDXAPP_LMS_NGINX_PORT: ${site.port}\n` } });
    const cookie = cookieOf(await t.loginAs("ada", { admin: true }));
    browser = await launchBrowser();
    page = await pageWithCookie(browser, t.url, cookie, { width: 1440, height: 900 });
    page.on("pageerror", (err) => errors.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await site?.stop();
    await t?.close();
  });

  it("Edit in admin opens the instance's admin form", async () => {
    await page.goto(`${t.url}/instances/${instance.id}`);
    const [response] = await Promise.all([page.waitForNavigation(), page.getByRole("link", { name: "Edit in admin" }).click()]);
    expect(response?.status()).toBe(200);
    expect(await page.inputValue("#id_name")).toBe("Live University");
    expect(await page.inputValue("#id_internalLmsDomain")).toBe("lms.live.example.com");
  });

  it("shows on the instance page, without a reload, an appserver a colleague launches and its status", async () => {
    await page.goto(`${t.url}/instances/${instance.id}`);
    await markNoReload();
    expect(await regionText("appservers")).toContain("No appserver has been launched");
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    await regionShows("appservers", new RegExp(`${as.name}\\s+new`));
    expect(await regionText("appserver-totals")).toContain("1 total, 0 active");
    await step(as.id, "prepare-data");
    await move(as.id, "vmRequested");
    await regionShows("appservers", new RegExp(`${as.name}\\s+waiting`));
    expect(await stillSameDocument()).toBe(true);
    await screenshot(page, "live-instance-page");
  });

  it("keeps the instance's row of the list on the left in step with its appservers, without a reload", async () => {
    const college = await makeInstance(t.deps, { name: "Sidebar College" });
    const older = await makeAppServer(t.deps, college.id, { status: "running", vmStatus: "ready", number: 50 });
    await page.goto(`${t.url}/instances/${college.id}`);
    await markNoReload();
    const row = () => text(`.instance-list li.selected .badges`);
    const rowShows = (want: string) => textShows(".instance-list li.selected .badges", want);
    expect(await row()).toBe("0 active running");
    await move(older.id, "activated", { isActive: true });
    await rowShows("1 active running");
    expect(await page.getAttribute(".instance-list li.selected .badges .badge", "class")).toBe("badge count-1");
    const as = await launchAppServer(t.deps, { instanceId: college.id, actor: colleague });
    await rowShows("1 active new");
    await move(as.id, "vmRequested");
    await rowShows("1 active waiting");
    await move(as.id, "error");
    await rowShows("1 active error");
    await move(older.id, "deactivated", { isActive: false });
    await rowShows("0 active error");
    expect(await page.getAttribute(".instance-list li.selected .badges .badge", "class")).toBe("badge count-0");
    expect(await stillSameDocument()).toBe(true);
    // What a reload shows.
    await page.reload();
    expect(await row()).toBe("0 active error");
  });

  it("shows on the fleet home, without a reload, a launch a colleague starts and how it ends", async () => {
    const school = await makeInstance(t.deps, { name: "Fleetwatch School" });
    await page.goto(`${t.url}/`);
    await markNoReload();
    const provisioning = 'section[aria-labelledby="fleet-provisioning"]';
    expect(await text(provisioning)).not.toContain("Fleetwatch School");
    const as = await launchAppServer(t.deps, { instanceId: school.id, actor: colleague });
    await page.waitForFunction(
      ([sel, want]) => (document.querySelector(sel) as HTMLElement | null)?.innerText.includes(want),
      [provisioning, `Fleetwatch School · ${as.name}`] as const, { timeout: 20_000 },
    );
    await move(as.id, "vmRequested");
    await move(as.id, "error", { failureSummary: "The VM never answered on SSH." });
    await page.waitForFunction(
      (want) => (document.querySelector('section[aria-labelledby="fleet-failing"]') as HTMLElement | null)?.innerText.includes(want),
      `Fleetwatch School · ${as.name}`, { timeout: 20_000 },
    );
    expect(await text(provisioning)).not.toContain("Fleetwatch School");
    expect(await stillSameDocument()).toBe(true);
    await screenshot(page, "live-fleet-home");
  });

  it("keeps the fleet home's instance list current, as filtered", async () => {
    const school = await makeInstance(t.deps, { name: "Listwatch School" });
    await page.goto(`${t.url}/?q=Listwatch`);
    await markNoReload();
    const row = `.instance-list a[href^="/instances/${school.id}"] .badges`;
    expect(await text(row)).toBe("0 active none");
    const as = await launchAppServer(t.deps, { instanceId: school.id, actor: colleague });
    await textShows(row, "0 active new");
    // Still the list searched for, not the whole fleet's.
    expect(await text(".list-summary")).toBe("1 instance matching “Listwatch”");
    await move(as.id, "error");
    expect(await stillSameDocument()).toBe(true);
  });

  it("keeps every row of the list on the left current on an instance page, as searched", async () => {
    const viewed = await makeInstance(t.deps, { name: "Rowwatch Viewed" });
    const other = await makeInstance(t.deps, { name: "Rowwatch Other" });
    await page.goto(`${t.url}/instances/${viewed.id}?q=Rowwatch`);
    await markNoReload();
    const rowOf = (id: number) => `.instance-list a[href^="/instances/${id}"] .badges`;
    const rowShows = (id: number, want: string) => textShows(rowOf(id), want);
    expect(await text(rowOf(other.id))).toBe("0 active none");
    // A colleague's launch of another instance: its row follows (the page watches the whole fleet).
    const theirs = await launchAppServer(t.deps, { instanceId: other.id, actor: colleague });
    await rowShows(other.id, "0 active new");
    // Still the list as searched, with the viewed instance selected.
    expect(await text(".list-summary")).toBe("2 instances matching “Rowwatch”");
    expect(await text(".instance-list li.selected .name")).toBe("Rowwatch Viewed");
    const mine = await launchAppServer(t.deps, { instanceId: viewed.id, actor: colleague });
    await rowShows(viewed.id, "0 active new");
    // The list put in again from a read older than the messages (a shared read, SIDEBAR_CACHE_MS):
    // the viewed instance's row shows again what its messages said.
    await page.evaluate((sel) => {
      const badges = document.querySelector(sel)!.children;
      badges[1]!.textContent = "none";
      document.dispatchEvent(new CustomEvent("ocim:regions-updated"));
    }, rowOf(viewed.id));
    expect(await text(rowOf(viewed.id))).toBe("0 active new");
    await move(theirs.id, "error");
    await move(mine.id, "error");
    await rowShows(other.id, "0 active error");
    expect(await stillSameDocument()).toBe(true);
  });

  it("says on a page without a log that it is not being updated while the console is away, and catches up after", async () => {
    const school = await makeInstance(t.deps, { name: "Offline Academy" });
    await page.goto(`${t.url}/instances/${school.id}`);
    await markNoReload();
    const notice = page.locator("[data-live-offline]");
    await page.waitForFunction(() => (window as unknown as { OcimLive?: { socket(): { connected: boolean } } }).OcimLive?.socket().connected === true);
    expect(await notice.isVisible()).toBe(false);
    await page.context().setOffline(true);
    try {
      await notice.waitFor({ state: "visible" });
      expect(await notice.innerText()).toBe("Not connected: this page is not being updated. Reconnecting…");
      await launchAppServer(t.deps, { instanceId: school.id, actor: colleague });
    } finally {
      await page.context().setOffline(false);
    }
    await notice.waitFor({ state: "hidden" });
    await regionShows("appservers", /AppServer 1\s+new/);
    expect(await stillSameDocument()).toBe(true);
  });

  it("shows on the instance page, without a reload, that a colleague put it in maintenance and took it out", async () => {
    const site2 = await openServingInstance("Maintained Polytechnic");
    expect(await regionText("maintenance-notice")).toBe("");
    expect(await regionText("appservers")).toContain("serving traffic");
    await setMaintenance(t.deps, { instance: site2.id, actor: colleague, on: true });
    await regionShows("maintenance-notice", /^In maintenance since .*, by colleague: the load balancer answers every domain/);
    expect(await regionText("appservers")).toContain("active (maintenance page shown)");
    await setMaintenance(t.deps, { instance: site2.id, actor: colleague, on: false });
    await regionShows("appservers", /serving traffic/);
    expect(await regionText("maintenance-notice")).toBe("");
    expect(await stillSameDocument()).toBe(true);
  });

  it("keeps the Decommission steps current as a colleague takes them, and leaves an open confirmation alone", async () => {
    const site3 = await openServingInstance("Retiring Academy");
    await page.locator("#decommission > summary").click();
    expect(await text('#decommission li[data-step="deactivate"]')).toBe("Deactivate: AppServer 1 is active: put the site in maintenance first.");

    await setMaintenance(t.deps, { instance: site3.id, actor: colleague, on: true });
    await regionShows("decommission", /Deactivate: AppServer 1 is active\. Deactivate 1 appserver/);
    expect(await text('#decommission li[data-step="maintenance"]')).toMatch(/^Maintenance: done; every domain answers the maintenance page\./);
    // The panel stays open as the reader left it: only the steps inside it were rendered again.
    expect(await page.locator("#decommission").getAttribute("open")).not.toBeNull();

    // A confirmation open when the colleague leaves maintenance: not swapped away under the reader...
    await page.locator("#decommission button[data-confirm]", { hasText: "Deactivate 1 appserver" }).click();
    const dialog = page.getByRole("dialog", { name: /AppServer 1 stops being active/ });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const heard = page.evaluate(() => new Promise<void>((resolve) => document.addEventListener("ocim:instance", () => resolve(), { once: true })));
    await setMaintenance(t.deps, { instance: site3.id, actor: colleague, on: false });
    await heard;
    expect(await dialog.isVisible()).toBe(true);
    // ...and once it closes, the steps say what is true now: the question no longer applies.
    await page.keyboard.press("Escape");
    await regionShows("decommission", /Deactivate: AppServer 1 is active: put the site in maintenance first\./);
    expect(await page.locator("#decommission button[data-confirm]", { hasText: "Deactivate" }).count()).toBe(0);
    expect(await stillSameDocument()).toBe(true);
  });

  it("shows on the instance page the databases a launch prepared, as a reload would", async () => {
    const mysql = await t.deps.db.dataService.create({ data: { name: "Campus MySQL", kind: "mysql", settings: { host: "127.0.0.1", port: 3306 } } });
    const college = await makeInstance(t.deps, { name: "Data College", mysqlServiceId: mysql.id });
    await page.goto(`${t.url}/instances/${college.id}`);
    await markNoReload();
    expect(await regionText("data")).toContain("Nothing recorded yet: the next launch prepares it.");
    const as = await launchAppServer(t.deps, { instanceId: college.id, actor: colleague });
    // What the launch's first step records, then the step's own status event.
    await t.deps.db.instanceDataResource.create({
      data: { instanceId: college.id, owner: college.slug, serviceId: mysql.id, kind: "database", name: "data_college_edxapp", status: "exists", checkedAt: new Date() },
    });
    await step(as.id, "prepare-data");
    await regionShows("data", /database data_college_edxapp exists/);
    expect(await regionText("data")).not.toContain("Nothing recorded yet");
    await move(as.id, "error");
    expect(await stillSameDocument()).toBe(true);
  });

  it("keeps following launches after Reveal secrets, and the secrets stay shown", async () => {
    await page.goto(`${t.url}/instances/${instance.id}`);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Reveal secrets" }).click()]);
    await markNoReload();
    // The page answers the POST: its regions come from the instance page's GET address, never this one.
    const refetched: string[] = [];
    page.on("response", (r) => { if (r.request().method() === "GET" && r.url().includes("/reveal-secrets")) refetched.push(`${r.status()} ${r.url()}`); });
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    await regionShows("appservers", new RegExp(`${as.name}\\s+new`));
    expect(await page.locator("main").innerText()).toContain("Secrets shown unmasked, this once");
    expect(refetched).toEqual([]);
    expect(await stillSameDocument()).toBe(true);
  });

  it("keeps every part of the appserver page current through a launch, and Cancel disappears once it is done", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    await page.goto(`${t.url}/appservers/${as.id}`);
    await markNoReload();
    expect(await regionText("title")).toContain("Cancel provisioning…");
    expect(await regionText("status")).toContain("IP address —");

    await step(as.id, "prepare-data");
    await regionShows("status", /Prepare the instance's databases and storage · [\d ms]+ so far/);
    await t.deps.db.$transaction(async (tx) => {
      await tx.appServerStep.updateMany({ where: { appServerId: as.id, name: "prepare-data" }, data: { endedAt: new Date(), outcome: "done" } });
    });
    await step(as.id, "create-vm");
    await move(as.id, "vmRequested");
    await move(as.id, "vmCreated", { providerServerId: "vm-77", vmStatus: "building" }, "create-vm");
    await regionShows("status", /Create the VM · \d+ (ms|s) Wait/);
    await step(as.id, "wait-vm");
    await regionShows("status", /Step Step 3 of 9: Wait for the VM/);
    await move(as.id, "vmReady", { publicIp: "127.0.0.1", vmStatus: "ready" }, "wait-vm");
    await regionShows("status", /IP address 127\.0\.0\.1 /);
    expect(await regionText("status")).toContain(`Authenticated link http://${site.auth.user}:${site.auth.password}@127.0.0.1:${site.port}/`);
    expect(await regionText("title")).toContain("Cancel provisioning…");

    for (const name of ["upload-vars", "clone", "start-playbook", "tail", "finish", "wait-heartbeat"] as const) await step(as.id, name);
    await move(as.id, "succeeded", { failureSummary: "" }, "wait-heartbeat");
    // The badge turns at once (live-status.js); the actions come with the region's new rendering.
    await regionShows("title", /running.*Activate and deactivate the others…/);
    const title = await regionText("title");
    expect(title).not.toContain("Cancel provisioning");
    expect(title).toContain("Activate and deactivate the others…");
    expect(title).toContain("Terminate…");
    const status = await regionText("status");
    expect(status).toContain("Step All steps done: running");
    expect(status).toMatch(/· (\d+ ms|\d+ s|\d+ min \d\d s) to finish/);
    expect(status).toContain("Wait for /heartbeat to answer 200 ·");
    expect(status).not.toContain("not started");
    expect(await stillSameDocument()).toBe(true);
    await screenshot(page, "live-appserver-running");

    // Another person activates it elsewhere: the active state and the actions follow.
    await activateAppServer(t.deps, { appServerId: as.id, actor: colleague });
    await regionShows("title", /serving traffic/);
    expect(await regionText("title")).toContain("Deactivate…");
    expect(await regionText("title")).not.toContain("Terminate…");
    expect(await regionText("status")).toMatch(/Active yes · last activated/);
    expect(await stillSameDocument()).toBe(true);
  });

  it("shows the failure summary and Terminate as soon as a launch fails", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    await move(as.id, "vmRequested");
    await move(as.id, "vmReady", { publicIp: "127.0.0.78", vmStatus: "ready" });
    await page.goto(`${t.url}/appservers/${as.id}`);
    await markNoReload();
    expect(await regionText("failure")).toBe("");
    await move(as.id, "failed", { failureSummary: 'TASK [edxapp : migrate] fatal: "boom"' });
    await regionShows("failure", /Why it stopped: TASK \[edxapp : migrate\] fatal: "boom"/);
    expect(await regionText("title")).not.toContain("Cancel provisioning");
    expect(await regionText("title")).toContain("Terminate…");
    expect(await regionText("status")).toContain("Provisioning failed");
    expect(await regionText("status")).not.toContain("cancelled");
    expect(await stillSameDocument()).toBe(true);
  });

  it("keeps the keyboard focus on the same control when a live update renders its region again", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return el && el !== document.body ? `${el.tagName} ${el.textContent?.trim()}` : "BODY";
    });
    const swapped = () => page.evaluate(() => new Promise<void>((r) => document.addEventListener("ocim:regions-updated", () => r(), { once: true })));

    await page.goto(`${t.url}/appservers/${as.id}`);
    await regionShows("title", /Cancel provisioning…/);
    await markNoReload();
    await page.getByRole("button", { name: "Cancel provisioning…" }).focus();
    let update = swapped();
    await step(as.id, "prepare-data");
    await update;
    expect(await focused()).toBe("BUTTON Cancel provisioning…");
    // Enter still opens the question: the focus is on the button in the page, not on a removed one.
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });

    await page.goto(`${t.url}/instances/${instance.id}`);
    await regionShows("appservers", new RegExp(`${as.name}\\s+new`));
    await markNoReload();
    await page.getByRole("link", { name: as.name, exact: true }).focus();
    update = swapped();
    await move(as.id, "vmRequested");
    await update;
    await regionShows("appservers", new RegExp(`${as.name}\\s+waiting`));
    expect(await focused()).toBe(`A ${as.name}`);
    expect(await stillSameDocument()).toBe(true);
    await move(as.id, "error"); // not provisioning any more: the next tests launch under the cap
  });

  it("answers a Cancel posted after the appserver finished on the appserver page", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: colleague });
    await move(as.id, "vmRequested");
    await move(as.id, "vmReady", { publicIp: "127.0.0.79", vmStatus: "ready" });
    await page.goto(`${t.url}/appservers/${as.id}`);
    await regionShows("status", /IP address 127\.0\.0\.79/);
    // The question is open before the appserver finishes, and no status message reaches the page
    // (the relay is stopped). Even one that did (the socket's catch-up on connecting) would not swap
    // the regions while a question is open (live-regions.js), so the page still offers Cancel.
    await page.getByRole("button", { name: "Cancel provisioning…" }).click();
    await page.getByRole("dialog").waitFor();
    await relay.close();
    try {
      await move(as.id, "succeeded");
      await page.getByRole("dialog").getByRole("button", { name: "Cancel provisioning" }).click();
      await page.waitForSelector(".flash-error");
      expect(new URL(page.url()).pathname).toBe(`/instances/${as.instanceId}/appservers/${as.number}`);
      expect(await text(".flash-error")).toBe(`${as.name} is not being provisioned (it is running); there is nothing to cancel.`);
      expect(await regionText("title")).toContain("Activate…");
      expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).status).toBe("running");
    } finally {
      relay = startOutboxRelay(t.deps);
    }
  });

  it("asks before Activate, Deactivate and Terminate; Escape closes the question and changes nothing", async () => {
    const a = await makeAppServer(t.deps, instance.id, {
      status: "running", vmStatus: "ready", publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: site.port } },
    });
    await page.goto(`${t.url}/appservers/${a.id}`);
    // The one-step switch names what it does: "Activate AppServer N" (and the others it stops).
    for (const [opener, confirm] of [["Activate and deactivate the others…", new RegExp(`^Activate ${a.name}`)], ["Activate…", "Activate"], ["Terminate…", `Terminate ${a.name}`]] as const) {
      await page.getByRole("button", { name: opener, exact: true }).click();
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      expect(await dialog.getByRole("button", { name: confirm, exact: true }).isVisible()).toBe(true);
      // The focus is on the way back, not on the action.
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Back");
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
    }
    expect(await t.deps.db.appServer.findUniqueOrThrow({ where: { id: a.id } })).toMatchObject({ status: "running", isActive: false });

    await page.getByRole("button", { name: "Activate…", exact: true }).click();
    await screenshot(page, "confirm-activate");
    await page.getByRole("dialog").getByRole("button", { name: "Activate", exact: true }).click();
    await page.waitForSelector(".flash-ok");
    expect(await text(".flash-ok")).toBe("Activated.");
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: a.id } })).isActive).toBe(true);

    await page.getByRole("button", { name: "Deactivate…" }).click();
    expect(await page.getByRole("dialog").innerText()).toContain(`${a.name} stops serving Live University`);
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    expect((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: a.id } })).isActive).toBe(true);
  });

  it("shows a terminated appserver's provisioning time as its time to finish, and its address as released", async () => {
    const launched = new Date(Date.now() - 3 * 24 * 3600_000);
    const at = (minutes: number) => new Date(launched.getTime() + minutes * 60_000);
    const a = await makeAppServer(t.deps, instance.id, { status: "running", vmStatus: "ready", publicIp: "127.0.0.81", createdAt: launched, statusChangedAt: at(12) });
    await t.deps.db.appServerStep.createMany({ data: [
      { appServerId: a.id, name: "prepare-data", position: 1, startedAt: at(0), endedAt: at(1), outcome: "done" },
      { appServerId: a.id, name: "wait-heartbeat", position: 9, startedAt: at(1), endedAt: at(12) , outcome: "done" },
    ] });
    await page.goto(`${t.url}/appservers/${a.id}`);
    await page.getByRole("button", { name: "Terminate…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: `Terminate ${a.name}` }).click();
    await page.waitForSelector(".flash-ok");
    const status = await regionText("status");
    expect(status).toContain("12 min 00 s to finish");
    expect(status).toContain("IP address released");
    expect(status).not.toContain("127.0.0.81");
    await page.goto(`${t.url}/instances/${instance.id}`);
    const row = await page.locator("table.appservers tr", { hasText: a.name }).innerText();
    expect(row).toMatch(/terminated.*released/s);
    expect(row).not.toContain("127.0.0.81");
  });

  it("asks before revoking an API token; Escape keeps it", async () => {
    await createApiToken(t.deps, { githubLogin: "ada", actor: colleague, name: "nightly report" });
    await page.goto(`${t.url}/account/tokens`);
    const rows = page.locator("table.tokens tbody tr");
    expect(await rows.count()).toBe(1);
    await page.getByRole("button", { name: "Revoke…" }).click();
    expect(await page.getByRole("dialog").innerText()).toContain("(nightly report)? Scripts that use it are refused from now on");
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "hidden" });
    expect(await t.deps.db.apiToken.count()).toBe(1);
    await page.getByRole("button", { name: "Revoke…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke", exact: true }).click();
    await page.waitForSelector(".flash-ok");
    expect(await t.deps.db.apiToken.count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
