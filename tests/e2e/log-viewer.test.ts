import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { ansibleLineText, seedAnsibleLog } from "../helpers/ansible-log.js";
import { createLogWriter } from "../../src/domain/logs/log-writer.js";
import { insertLogBatch } from "../../src/domain/logs/insert-log-batch.js";
import { publishAppServerStatus } from "../../src/domain/appservers/publish-status.js";

// A screenful is 60vh of 900 px in 18 px rows (30 lines) plus 40 rendered above and below.
const MAX_DOM_LINES = 120;

/** The seqs of the line nodes that are inside the log box's visible area. */
function visibleSeqs(page: Page): Promise<number[]> {
  return page.$eval("[data-log-lines]", (box) => {
    const view = box.getBoundingClientRect();
    return [...box.querySelectorAll(".log-line")]
      .filter((n) => { const r = n.getBoundingClientRect(); return r.top >= view.top - 1 && r.bottom <= view.bottom + 1; })
      .map((n) => Number(n.getAttribute("data-seq")));
  });
}
const domLines = (page: Page) => page.$$eval(".log-line", (nodes) => nodes.length);
const waitForState = (page: Page, text: string) =>
  page.waitForFunction((want) => document.querySelector("[data-log-state]")?.textContent === want, text);
/** Waits until the line is in view with its text loaded (not the "…" of a line being fetched). */
const waitInView = (page: Page, seq: number) =>
  page.waitForFunction((s) => {
    const box = document.querySelector("[data-log-lines]")!;
    const node = box.querySelector(`.log-line[data-seq="${s}"]`);
    if (!node || node.classList.contains("level-missing")) return false;
    const r = node.getBoundingClientRect();
    const v = box.getBoundingClientRect();
    return r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
  }, seq);
const lineText = (page: Page, seq: number) => page.textContent(`.log-line[data-seq="${seq}"] .log-text`);

describe("the log viewer in Chromium", () => {
  let t: LiveTestApp;
  let browser: Browser;
  let context: BrowserContext;
  let instanceId: number;
  const errors: string[] = [];

  async function openPage(appServerId: number): Promise<Page> {
    const page = await context.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
    // Every request the page makes must succeed (the browser's own favicon probe aside).
    page.on("response", (res) => void (res.status() >= 400 && !res.url().endsWith("/favicon.ico") && errors.push(`${res.status()} ${res.url()}`)));
    await page.goto(`${t.url}/appservers/${appServerId}`);
    return page;
  }

  beforeAll(async () => {
    t = await startLiveApp();
    instanceId = (await makeInstance(t.deps, { name: "Demo University" })).id;
    const cookie = cookieOf(await t.loginAs("alice"));
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: t.url }]);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  describe("a log being written", () => {
    let page: Page;
    let appServerId: number;

    /** Writes lines from seq `from` to `to` through a new writer (as a resumed worker would). */
    async function write(from: number, to: number): Promise<void> {
      const writer = createLogWriter(t.deps, { appServerId, secrets: [] });
      for (let seq = from; seq <= to; seq++) await writer.write(`TASK [demo : step ${seq}] ok: [localhost]`, seq % 250 === 0 ? "warn" : "info");
      expect(await writer.close()).toBe(to);
    }

    beforeAll(async () => {
      appServerId = (await makeAppServer(t.deps, instanceId, { status: "configuring" })).id;
      await write(1, 300);
      page = await openPage(appServerId);
    });

    it("opens on the newest lines, appends what is written, and keeps the page's line count bounded", async () => {
      await waitForState(page, "Live");
      expect((await visibleSeqs(page)).at(-1)).toBe(300);
      expect(await page.textContent("[data-log-count]")).toBe("300 lines");

      await write(301, 3300);
      await waitInView(page, 3300);
      expect(await lineText(page, 3300)).toBe("TASK [demo : step 3300] ok: [localhost]");
      expect(await domLines(page)).toBeLessThanOrEqual(MAX_DOM_LINES);
      // Each line carries the time it was stored.
      expect(await page.getAttribute('.log-line[data-seq="3300"] time', "datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

      // Stored first, as the worker does: the page renders its regions again from what is stored.
      await t.deps.db.appServer.update({ where: { id: appServerId }, data: { vmStatus: "ready" } });
      await publishAppServerStatus(t.deps, { appServerId, instanceId, status: "configuring", vmStatus: "ready" });
      await page.waitForFunction(() => document.querySelector('[data-status-field="vmStatus"]')?.textContent === "ready");
      await screenshot(page, "log-viewer-live");
    });

    it("catches up after a reconnection and fills a gap, with no line missing or repeated", async () => {
      await page.evaluate(() => {
        const w = window as unknown as { states: string[] };
        w.states = [];
        const el = document.querySelector("[data-log-state]")!;
        new MutationObserver(() => w.states.push(el.textContent ?? "")).observe(el, { childList: true, characterData: true, subtree: true });
      });
      for (const socket of t.live.io.of("/").sockets.values()) socket.conn.close();
      await write(3301, 3320);
      await waitInView(page, 3320);
      await waitForState(page, "Live");
      expect(await page.evaluate(() => (window as unknown as { states: string[] }).states)).toContain("Reconnecting…");

      // Lines stored but never published (a lost message): they show when they come into view.
      await insertLogBatch(t.deps, { appServerId, firstSeq: 3321, lines: Array.from({ length: 5 }, (_, i) => ({ text: `unpublished ${3321 + i}`, level: "info" as const })) });
      await write(3326, 3330);
      await waitInView(page, 3330);
      await page.waitForFunction(() => document.querySelector('.log-line[data-seq="3323"] .log-text')?.textContent === "unpublished 3323");
      const seqs = await visibleSeqs(page);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => 3330 - seqs.length + 1 + i));
    });

    it("counts new lines while the reader is scrolled up, without moving what they read", async () => {
      await page.$eval("[data-log-lines]", (box) => box.scrollTo(0, box.scrollTop - 2000));
      await page.waitForFunction(() => !document.querySelector('.log-line[data-seq="3330"]'));
      const before = await visibleSeqs(page);
      await write(3331, 3400);
      await page.waitForFunction(() => document.querySelector("[data-log-new]")?.textContent === "70 new lines");
      expect(await page.isVisible("[data-log-new]")).toBe(true);
      expect(await visibleSeqs(page)).toEqual(before);

      await page.click("[data-log-new]");
      await waitInView(page, 3400);
      expect(await page.isVisible("[data-log-new]")).toBe(false);
    });

    it("says Finished once provisioning ends", async () => {
      await t.deps.db.appServer.update({ where: { id: appServerId }, data: { status: "running", vmStatus: "ready" } });
      await publishAppServerStatus(t.deps, { appServerId, instanceId, status: "running", vmStatus: "ready" });
      await waitForState(page, "Finished");
      await page.close();
      expect(errors).toEqual([]);
    });
  });

  it("gives the outline's durations as the page's steps do: ms under a second, seconds in two digits after minutes", async () => {
    const appServerId = (await makeAppServer(t.deps, instanceId, { status: "failed" })).id;
    // 13 ms between lines: a task of 50 lines lasted 650 ms, a play of 5,000 lines 65 s.
    await seedAnsibleLog(t.deps, { appServerId, lines: 10_001, gapMs: 13 });
    const page = await openPage(appServerId);
    await waitForState(page, "Finished");
    await page.waitForSelector('.log-outline a[data-seq="52"]', { state: "attached" });
    expect(await page.textContent('.log-outline a[data-seq="52"] + .log-duration')).toBe("650 ms");
    expect(await page.textContent('.log-outline details[data-seq="1"] summary .log-duration')).toBe("1 min 05 s");
    await page.close();
  });

  describe("a finished 100,000-line run that failed", () => {
    const LINES = 100_000;
    const FAIL_AT = 73_456;
    let page: Page;
    let appServerId: number;

    beforeAll(async () => {
      appServerId = (await makeAppServer(t.deps, instanceId, { status: "failed" })).id;
      await seedAnsibleLog(t.deps, { appServerId, lines: LINES, failAt: FAIL_AT, gapMs: 100 });
      page = await openPage(appServerId);
    });

    it("says Finished, opens on the last line, and colours failures red and warnings amber", async () => {
      expect(await page.textContent("[data-log-state]")).toBe("Finished");
      await waitInView(page, LINES);
      expect(await lineText(page, LINES)).toBe(ansibleLineText(LINES, { lines: LINES }));
      expect(await page.textContent("[data-log-count]")).toBe("100,000 lines");
      // 99,700 is a warning (a multiple of 997) near the end.
      await page.fill("[data-log-goto] input", "99700");
      await page.press("[data-log-goto] input", "Enter");
      await waitInView(page, 99_700);
      const colour = (seq: number) => page.$eval(`.log-line[data-seq="${seq}"]`, (n) => getComputedStyle(n).color);
      expect(await colour(99_700)).toBe("rgb(227, 179, 65)");
      expect(await colour(99_701)).toBe("rgb(201, 209, 217)");
      await screenshot(page, "log-viewer-warning");
    });

    it("jumps to the first failure, on the failed task the outline marks", async () => {
      await page.waitForSelector("[data-log-first-failure]:not([hidden])");
      await page.click("text=First failure");
      await waitInView(page, FAIL_AT);
      expect(await lineText(page, FAIL_AT)).toContain("fatal: [localhost]: FAILED!");
      expect(await page.$eval(`.log-line[data-seq="${FAIL_AT}"]`, (n) => getComputedStyle(n).color)).toBe("rgb(255, 123, 114)");
      expect(await page.getAttribute(`.log-line[data-seq="${FAIL_AT}"]`, "class")).toContain("log-target");
      // The task it failed in: "TASK [demo : task 1470]" at line 73,452, marked failed in the outline.
      const failed = await page.$$eval(".log-outline-failed a", (links) => links.map((a) => a.textContent));
      expect(failed).toEqual(["Play play 15", "demo : task 1470"]);
      // 50 lines 100 ms apart: each task lasted 5 s; a play of 5,000 lines, 8 min 20 s.
      expect(await page.textContent('.log-outline a[data-seq="73452"] + .log-duration')).toBe("5 s");
      expect(await page.textContent('.log-outline details[data-seq="70001"] summary .log-duration')).toBe("8 min 20 s");
      await screenshot(page, "log-viewer-first-failure");
    });

    it("jumps to the start, to a line number and to a task in one step", async () => {
      await page.click("[data-log-start]");
      await waitInView(page, 1);
      expect(await lineText(page, 1)).toBe("PLAY [play 1] *****************************************************");
      expect(await domLines(page)).toBeLessThanOrEqual(MAX_DOM_LINES);

      await page.fill("[data-log-goto] input", "12,345");
      await page.press("[data-log-goto] input", "Enter");
      await waitInView(page, 12_345);
      expect(await lineText(page, 12_345)).toBe("ok: [localhost] => (item=line 12345)");

      await page.click('.log-outline details[data-seq="45001"] summary');
      await page.click('.log-outline a[data-seq="45102"]');
      await waitInView(page, 45_102);
      expect((await visibleSeqs(page))[0]).toBe(45_102);
      expect(await lineText(page, 45_102)).toMatch(/^TASK \[demo : task 903\]/);

      // A line that is not in the log: told why, nothing moves.
      const shown = await visibleSeqs(page);
      await page.fill("[data-log-goto] input", "100001");
      await page.press("[data-log-goto] input", "Enter");
      await page.waitForSelector("text=Give a line number from 1 to 100,000.");
      expect(await visibleSeqs(page)).toEqual(shown);
    });

    it("finds text anywhere in the log and steps through the matches", async () => {
      await page.fill("[data-log-search] input", "line 98765)");
      await page.press("[data-log-search] input", "Enter");
      await waitInView(page, 98_765);
      expect(await page.textContent("[data-log-search-state]")).toBe("1 of 1 · line 98,765");
      expect(await page.textContent(`.log-line[data-seq="98765"] mark`)).toBe("line 98765)");

      await page.fill("[data-log-search] input", "[warning]");
      await page.press("[data-log-search] input", "Enter");
      await waitInView(page, 997);
      const warnings = Array.from({ length: LINES }, (_, i) => ansibleLineText(i + 1, { lines: LINES })).filter((l) => l.startsWith("[WARNING]")).length;
      expect(await page.textContent("[data-log-search-state]")).toBe(`1 of ${warnings} · line 997`);
      await page.click("[data-log-next]");
      await waitInView(page, 1994);
      expect(await page.textContent("[data-log-search-state]")).toBe(`2 of ${warnings} · line 1,994`);
      await page.click("[data-log-prev]");
      await waitInView(page, 997);
      // ↑ is disabled at the first match: the focus goes back to the search box, not to the page.
      expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("q");
      // By keyboard, as a browser's find: Enter again goes to the next match, Shift+Enter back.
      await page.press("[data-log-search] input", "Enter");
      await waitInView(page, 1994);
      expect(await page.textContent("[data-log-search-state]")).toBe(`2 of ${warnings} · line 1,994`);
      await page.press("[data-log-search] input", "Shift+Enter");
      await waitInView(page, 997);
      expect(await page.textContent("[data-log-search-state]")).toBe(`1 of ${warnings} · line 997`);

      await page.fill("[data-log-search] input", "no such text anywhere");
      await page.press("[data-log-search] input", "Enter");
      await page.waitForSelector("text=No matches");
    });

    it("keeps at most a screenful of lines in the page after jumping all over the log", async () => {
      for (const line of [1, 50_000, 99_999, 25_000, 75_000]) {
        await page.fill("[data-log-goto] input", String(line));
        await page.press("[data-log-goto] input", "Enter");
        await waitInView(page, line);
        expect(await domLines(page)).toBeLessThanOrEqual(MAX_DOM_LINES);
      }
      // Scrolling by hand through 20,000 lines, a screen at a time.
      for (let i = 0; i < 40; i++) await page.$eval("[data-log-lines]", (box) => box.scrollBy(0, -9000));
      expect(await domLines(page)).toBeLessThanOrEqual(MAX_DOM_LINES);
      const cached = await page.evaluate(() => (window as unknown as { OcimLogViewer: { viewers: { cache: Map<number, unknown> }[] } }).OcimLogViewer.viewers[0]!.cache.size);
      expect(cached).toBeLessThanOrEqual(22_000);
    });

    it("downloads the raw log, every line", async () => {
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-log-download]")]);
      expect(download.suggestedFilename()).toBe(`appserver-${appServerId}.log`);
      const text = await readFile((await download.path())!, "utf8");
      const lines = text.split("\n");
      expect(lines.length).toBe(LINES + 1); // the last line ends in a newline too
      expect(lines[0]).toBe(ansibleLineText(1, { lines: LINES }));
      expect(lines[FAIL_AT - 1]).toBe(ansibleLineText(FAIL_AT, { lines: LINES, failAt: FAIL_AT }));
      expect(lines[LINES - 1]).toBe(ansibleLineText(LINES, { lines: LINES }));
      expect(errors).toEqual([]);
    });
  });

  it("says in words when a part of the log cannot be loaded, and takes the message back once the console answers", async () => {
    const appServerId = (await makeAppServer(t.deps, instanceId, { status: "configuring" })).id;
    const writer = createLogWriter(t.deps, { appServerId, secrets: [] });
    for (let seq = 1; seq <= 3000; seq++) await writer.write(`TASK [demo : step ${seq}] ok: [localhost]`, "info");
    await writer.close();
    const page = await context.newPage();
    await page.goto(`${t.url}/appservers/${appServerId}`);
    await waitForState(page, "Live");
    const message = () => page.$eval("[data-log-message]", (el) => ((el as HTMLElement).hidden ? "" : el.textContent));
    try {
      // The console goes away (a restart of `npm start`, the network): the start of the log cannot be fetched.
      await context.setOffline(true);
      await waitForState(page, "Reconnecting…");
      await page.click("[data-log-start]");
      await page.waitForFunction(() => !(document.querySelector("[data-log-message]") as HTMLElement).hidden);
      expect(await message()).toBe("The console is not reachable: this part of the log loads once it answers again.");
    } finally {
      await context.setOffline(false);
    }
    await waitForState(page, "Live");
    await waitInView(page, 1);
    expect(await message()).toBe("");
    // A complaint about a line number goes once a jump lands.
    await page.fill("[data-log-goto] input", "99999");
    await page.press("[data-log-goto] input", "Enter");
    expect(await message()).toBe("Give a line number from 1 to 3,000.");
    await page.click("[data-log-start]");
    expect(await message()).toBe("");
    await page.close();
  });
});
