import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { makeAppServer, makeInstance } from "../helpers/factories.js";
import { cookieOf, startLiveApp, type LiveTestApp } from "../helpers/live.js";
import { createLogWriter } from "../../src/domain/logs/log-writer.js";
import { insertLogBatch } from "../../src/domain/logs/insert-log-batch.js";
import { publishAppServerStatus } from "../../src/domain/appservers/publish-status.js";

const MAX_LINES = 2000; // public/js/log-viewer.js

describe("the live log viewer in Chromium", () => {
  let t: LiveTestApp;
  let browser: Browser;
  let page: Page;
  let appServerId: number;
  let instanceId: number;
  const errors: string[] = [];

  /** Writes lines from seq `from` to `to` through a new writer (as a resumed worker would). */
  async function write(from: number, to: number): Promise<void> {
    const writer = createLogWriter(t.deps, { appServerId, secrets: [] });
    for (let seq = from; seq <= to; seq++) await writer.write(`TASK [demo : step ${seq}] ok: [localhost]`, seq % 250 === 0 ? "warn" : "info");
    expect(await writer.close()).toBe(to);
  }

  /** The seqs of the line nodes on the page, top to bottom. */
  const shownSeqs = () => page.$$eval(".log-line", (nodes) => nodes.map((n) => Number(n.getAttribute("data-seq"))));
  const waitForLine = (seq: number) => page.waitForSelector(`.log-line[data-seq="${seq}"]`, { state: "attached" });
  const waitForState = (text: string) =>
    page.waitForFunction((want) => document.querySelector("[data-log-state]")?.textContent === want, text);
  function expectContiguous(seqs: number[], last: number): void {
    expect(seqs.at(-1)).toBe(last);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => last - seqs.length + 1 + i));
  }

  beforeAll(async () => {
    t = await startLiveApp();
    instanceId = (await makeInstance(t.deps, { name: "Demo University" })).id;
    appServerId = (await makeAppServer(t.deps, instanceId)).id;
    await write(1, 300);
    const cookie = cookieOf(await t.loginAs("alice"));
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: t.url }]);
    page = await context.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
    // Every request the page makes must succeed (the browser's own favicon probe aside).
    page.on("response", (res) => void (res.status() >= 400 && !res.url().endsWith("/favicon.ico") && errors.push(`${res.status()} ${res.url()}`)));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("shows the last 200 lines, then appends lines live while keeping at most 2,000 in the page", async () => {
    await page.goto(`${t.url}/appservers/${appServerId}`);
    await waitForState("Live");
    expectContiguous(await shownSeqs(), 300);
    expect((await shownSeqs()).length).toBe(200);
    expect(await page.isVisible("text=Load earlier lines")).toBe(true);

    await write(301, 3300);
    await waitForLine(3300);
    const seqs = await shownSeqs();
    expect(seqs.length).toBe(MAX_LINES);
    expectContiguous(seqs, 3300);
    expect(await page.textContent(".log-line:last-child")).toBe("TASK [demo : step 3300] ok: [localhost]");
    // Following the log: the newest line is in view.
    expect(await page.$eval("[data-log-lines]", (box) => box.scrollHeight - box.scrollTop - box.clientHeight)).toBeLessThan(30);

    // Stored first, as the worker does: the page renders its regions again from what is stored.
    await t.deps.db.appServer.update({ where: { id: appServerId }, data: { status: "configuring", vmStatus: "ready" } });
    await publishAppServerStatus(t.deps, { appServerId, instanceId, status: "configuring", vmStatus: "ready" });
    await page.waitForFunction(() => document.querySelector(".badge[data-status-for]")?.textContent === "configuring");
    expect(await page.getAttribute(".badge[data-status-for]", "class")).toContain("status-configuring");
    expect(await page.textContent('[data-status-field="vmStatus"]')).toBe("ready");
    await screenshot(page, "log-viewer");
  });

  it("catches up after a reconnection and fills a gap, with no line missing or repeated", async () => {
    await page.evaluate(() => {
      const w = window as unknown as { states: string[] };
      w.states = [];
      const el = document.querySelector("[data-log-state]")!;
      new MutationObserver(() => w.states.push(el.textContent ?? "")).observe(el, { childList: true, characterData: true, subtree: true });
    });
    // Cut every connection: the page reconnects by itself and asks for what it missed.
    for (const socket of t.live.io.of("/").sockets.values()) socket.conn.close();
    await write(3301, 3350);
    await waitForLine(3350);
    await waitForState("Live");
    expect(await page.evaluate(() => (window as unknown as { states: string[] }).states)).toContain("Reconnecting…");
    expectContiguous(await shownSeqs(), 3350);

    // Lines stored but never published (a lost message): the next live line reveals the gap.
    await insertLogBatch(t.deps, { appServerId, firstSeq: 3351, lines: Array.from({ length: 10 }, (_, i) => ({ text: `unpublished ${3351 + i}`, level: "info" as const })) });
    await write(3361, 3370);
    await waitForLine(3370);
    const seqs = await shownSeqs();
    expectContiguous(seqs, 3370);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await page.textContent('.log-line[data-seq="3355"]')).toBe("unpublished 3355");
  });

  it("holds still while the reader is scrolled up, then jumps to the latest and loads earlier lines on demand", async () => {
    await page.$eval("[data-log-lines]", (box) => box.scrollTo(0, 0));
    const before = await shownSeqs();
    await write(3371, 6000);
    await page.waitForSelector("text=Jump to latest");
    // The window did not move under the reader.
    expect(await shownSeqs()).toEqual(before);

    await page.click("text=Jump to latest");
    await waitForLine(6000);
    const tail = await shownSeqs();
    expectContiguous(tail, 6000);
    expect(tail.length).toBeLessThanOrEqual(MAX_LINES);

    await page.$eval("[data-log-lines]", (box) => box.scrollTo(0, 0));
    await page.click("text=Load earlier lines");
    await waitForLine(tail[0]! - 500);
    const more = await shownSeqs();
    expectContiguous(more, 6000);
    expect(more.length).toBe(tail.length + 500);
    expect(errors).toEqual([]);
  });
});
