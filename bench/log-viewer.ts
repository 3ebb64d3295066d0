// npm run bench:log-viewer — the appserver page's log viewer in Chromium on a 1,000,000-line log.
// Own PostgreSQL and Redis in a temp dir, the real web role in its own process, Debian's
// Chromium. Two viewers on the same page and log, in the same run:
//   now:      public/js/log-viewer.js (a window over the whole log, docs/live-logs.md);
//   baseline: the viewer before it, from git (`--baseline <rev>`, default the merge base with
//             main), whose "Load earlier lines" adds 500 lines a click and never drops one.
// Figures: first contentful paint; JS heap and line nodes after opening; frame times (p50/p95/max)
// while going back 100,000 lines (now: scrolling, 3 screens a frame; baseline: 200 clicks of
// "Load earlier", each waited for); heap and nodes after that; the time to show line 1 (now: the
// Start button; baseline: the clicks it would take, at the mean click time measured, which is a
// floor: clicks slow down as the DOM grows); live lines appended per second while following;
// and the server side of a long log: search and outline answer times.
// Options: --lines N (default 1000000), --clicks N (baseline "Load earlier" clicks, default 200),
// --baseline <git rev>.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import ejs from "ejs";
import type { BrowserContext, Page } from "playwright-core";
import { loadConfig } from "../src/config.js";
import { createDeps, closeDeps, type Deps } from "../src/deps.js";
import { createLogger } from "../src/logger.js";
import { migrate } from "../src/bin/boot.js";
import { startPostgres } from "../src/embedded/postgres.js";
import { startRedis } from "../src/embedded/redis.js";
import { publishLogLines } from "../src/domain/logs/publish.js";
import type { LogLine } from "../src/domain/logs/live-channels.js";
import { launchBrowser } from "../tests/helpers/browser.js";
import { seedAnsibleLog } from "../tests/helpers/ansible-log.js";
import { makeAppServer, makeInstance } from "../tests/helpers/factories.js";
import { percentile } from "./measure.js";
import { loginCookie, startWebProcess } from "./web-process.js";

const { values: args } = parseArgs({
  options: { lines: { type: "string", default: "1000000" }, clicks: { type: "string", default: "200" }, baseline: { type: "string" } },
});
const LINES = Number(args.lines);
const CLICKS = Number(args.clicks);
const BACK_LINES = 100_000;
const LIVE_LINES = 100_000;
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";
const say = (line: string) => process.stdout.write(line + "\n");
const ms = (n: number) => `${n.toFixed(0)} ms`;
const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

interface Figures {
  firstPaintMs: number;
  heapOpen: number;
  nodesOpen: number;
  frames: { p50: number; p95: number; max: number; count: number };
  backMs: number;
  heapBack: number;
  nodesBack: number;
  lineOneMs: number;
  lineOneNote: string;
  liveLinesPerSecond: number;
}

async function heapAfterGc(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  await cdp.detach();
  return usedSize;
}

const lineNodes = (page: Page) => page.$$eval(".log-line", (n) => n.length);

/** Frame-to-frame times (rAF) in the page from now until `stop` is called. */
async function startFrameClock(page: Page): Promise<() => Promise<number[]>> {
  await page.evaluate(() => {
    const w = window as unknown as { frames: number[]; framing: boolean };
    w.frames = [];
    w.framing = true;
    let last = performance.now();
    const tick = (now: number) => {
      w.frames.push(now - last);
      last = now;
      if (w.framing) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return () => page.evaluate(() => {
    const w = window as unknown as { frames: number[]; framing: boolean };
    w.framing = false;
    return w.frames;
  });
}

function frameStats(frames: number[]) {
  const sorted = [...frames].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? NaN, count: sorted.length };
}

async function openAndPaint(context: BrowserContext, url: string): Promise<{ page: Page; firstPaintMs: number }> {
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector(`.log-line[data-seq="${LINES}"]`, { state: "attached" });
  const firstPaintMs = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN);
  return { page, firstPaintMs };
}

/** Lines published as a worker would (Redis → web → socket), `batch` at a time, until the page shows the last. */
async function liveAppend(deps: Deps, page: Page, appServerId: number, from: number): Promise<number> {
  await page.waitForFunction(() => /Live|Finished/.test(document.querySelector("[data-log-state]")?.textContent ?? ""));
  const batch = 500;
  const at = new Date().toISOString();
  const started = performance.now();
  for (let seq = from; seq < from + LIVE_LINES; seq += batch) {
    const lines: LogLine[] = Array.from({ length: batch }, (_, i) => ({ seq: seq + i, level: "info", text: `ok: [localhost] => (item=live ${seq + i})`, at }));
    await publishLogLines(deps, appServerId, lines);
  }
  await page.waitForSelector(`.log-line[data-seq="${from + LIVE_LINES - 1}"]`, { state: "attached", timeout: 600_000 });
  return LIVE_LINES / ((performance.now() - started) / 1000);
}

async function measureNow(context: BrowserContext, deps: Deps, base: string, appServerId: number): Promise<Figures> {
  const { page, firstPaintMs } = await openAndPaint(context, `${base}/appservers/${appServerId}`);
  const heapOpen = await heapAfterGc(page);
  const nodesOpen = await lineNodes(page);
  // Back 100,000 lines, three screens (90 lines) a frame, as fast as the frames come.
  const stop = await startFrameClock(page);
  const t0 = performance.now();
  await page.evaluate(async (lines) => {
    const box = document.querySelector("[data-log-lines]")!;
    const viewer = (window as unknown as { OcimLogViewer: { viewers: { scale: number }[] } }).OcimLogViewer.viewers[0]!;
    const target = box.scrollTop - (lines * 18) / viewer.scale;
    while (box.scrollTop > target) {
      box.scrollTop = Math.max(target, box.scrollTop - (90 * 18) / viewer.scale);
      await new Promise((r) => requestAnimationFrame(r));
    }
  }, BACK_LINES);
  const backMs = performance.now() - t0;
  const frames = frameStats(await stop());
  const heapBack = await heapAfterGc(page);
  const nodesBack = await lineNodes(page);
  const lineOneMs = await page.evaluate(() => new Promise<number>((resolve) => {
    const t = performance.now();
    (document.querySelector("[data-log-start]") as HTMLButtonElement).click();
    const check = () => {
      const node = document.querySelector('.log-line[data-seq="1"]');
      if (node && !node.classList.contains("level-missing")) resolve(performance.now() - t);
      else requestAnimationFrame(check);
    };
    check();
  }));
  // Following again (the "new lines" button), then the live lines.
  await page.evaluate(() => (document.querySelector("[data-log-lines]")!.scrollTop = 1e9));
  const liveLinesPerSecond = await liveAppend(deps, page, appServerId, LINES + 1);
  await page.close();
  return { firstPaintMs, heapOpen, nodesOpen, frames, backMs, heapBack, nodesBack, lineOneMs, lineOneNote: "one click", liveLinesPerSecond };
}

/** The same page with the old viewer's markup and script, served in place of the current ones. */
async function routeBaseline(context: BrowserContext, base: string, appServerId: number, rev: string, cookie: string): Promise<string> {
  const oldScript = execFileSync("git", ["show", `${rev}:public/js/log-viewer.js`], { encoding: "utf8" });
  const oldPartial = execFileSync("git", ["show", `${rev}:views/appservers/_log.ejs`], { encoding: "utf8" });
  const url = `${base}/appservers/${appServerId}?viewer=baseline`;
  await context.route(`${base}/bench/baseline-log-viewer.js`, (route) => route.fulfill({ contentType: "text/javascript", body: oldScript }));
  await context.route(url, async (route) => {
    const headers = { cookie };
    const page = await (await fetch(`${base}/appservers/${appServerId}`, { headers })).text();
    const tail = await (await fetch(`${base}/appservers/${appServerId}/log.json?limit=200`, { headers })).json() as { lines: LogLine[]; more: boolean };
    const partial = ejs.render(oldPartial, { appServerId, log: tail }).replace("/static/js/log-viewer.js", "/bench/baseline-log-viewer.js");
    const start = page.indexOf('<section class="log-viewer"');
    const endMark = '<script src="/static/js/log-viewer.js"></script>';
    const end = page.indexOf(endMark) + endMark.length;
    if (start < 0 || end < endMark.length) throw new Error("the page has no log viewer to replace");
    await route.fulfill({ contentType: "text/html; charset=utf-8", body: page.slice(0, start) + partial + page.slice(end) });
  });
  return url;
}

async function measureBaseline(context: BrowserContext, deps: Deps, url: string, appServerId: number, liveFrom: number): Promise<Figures> {
  const { page, firstPaintMs } = await openAndPaint(context, url);
  const heapOpen = await heapAfterGc(page);
  const nodesOpen = await lineNodes(page);
  const stop = await startFrameClock(page);
  const t0 = performance.now();
  const clickTimes: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const before = await lineNodes(page);
    const c0 = performance.now();
    await page.evaluate(() => {
      const box = document.querySelector("[data-log-lines]")!;
      box.scrollTop = 0;
      (document.querySelector("[data-log-earlier]") as HTMLButtonElement).click();
    });
    await page.waitForFunction((n) => document.querySelectorAll(".log-line").length > n, before);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null)))); // laid out and painted
    clickTimes.push(performance.now() - c0);
  }
  const backMs = performance.now() - t0;
  const frames = frameStats(await stop());
  const heapBack = await heapAfterGc(page);
  const nodesBack = await lineNodes(page);
  const meanClick = clickTimes.reduce((a, b) => a + b, 0) / clickTimes.length;
  const clicksToLineOne = Math.ceil((LINES - 200) / 500);
  await page.close();
  // Live append on a fresh page: the one above holds 100,000 lines and would not follow.
  const fresh = await openAndPaint(context, url);
  const liveLinesPerSecond = await liveAppend(deps, fresh.page, appServerId, liveFrom);
  await fresh.page.close();
  return {
    firstPaintMs, heapOpen, nodesOpen, frames, backMs, heapBack, nodesBack,
    lineOneMs: clicksToLineOne * meanClick,
    lineOneNote: `${clicksToLineOne.toLocaleString("en")} clicks × ${ms(meanClick)} (mean of ${CLICKS}; a floor)`,
    liveLinesPerSecond,
  };
}

/** The server side of a long log: the answers the viewer waits for, median of 5. */
async function serverTimes(base: string, cookie: string, appServerId: number): Promise<Record<string, number>> {
  const time = async (p: string) => {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/appservers/${appServerId}/${p}`, { headers: { cookie, accept: "application/json" } });
      if (!res.ok) throw new Error(`${p}: ${res.status}`);
      await res.arrayBuffer();
      runs.push(performance.now() - t);
    }
    return runs.sort((a, b) => a - b)[2]!;
  };
  return {
    "search, first hit + count (a rare text)": await time(`log/search.json?count=1&limit=100&q=${encodeURIComponent("line 987654)")}`),
    "search, next 100 hits (a common text)": await time(`log/search.json?limit=100&after=500000&q=${encodeURIComponent("[warning]")}`),
    "search, count of a common text (capped at 10,000)": await time(`log/search.json?count=1&limit=1&q=localhost`),
    "outline (plays, tasks, first failure)": await time("log/outline.json"),
    "1,000 lines around line 500,000": await time("log.json?after=499500&limit=1000"),
  };
}

function report(now: Figures, old: Figures, server: Record<string, number>): void {
  const row = (label: string, a: string, b: string, ratio: string) => say(`| ${label} | ${a} | ${b} | ${ratio} |`);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  say(`\n${LINES.toLocaleString("en")}-line log, Chromium ${"headless"}; ratio = now / baseline (lower is better, except lines/s)\n`);
  say("| figure | now | baseline | ratio |");
  say("|---|---|---|---|");
  row("first contentful paint", ms(now.firstPaintMs), ms(old.firstPaintMs), x(now.firstPaintMs, old.firstPaintMs));
  row("JS heap after opening", mb(now.heapOpen), mb(old.heapOpen), x(now.heapOpen, old.heapOpen));
  row("line nodes after opening", String(now.nodesOpen), String(old.nodesOpen), x(now.nodesOpen, old.nodesOpen));
  row(`going back ${BACK_LINES.toLocaleString("en")} lines: total`, ms(now.backMs), ms(old.backMs), x(now.backMs, old.backMs));
  row("… frame time p50", ms(now.frames.p50), ms(old.frames.p50), x(now.frames.p50, old.frames.p50));
  row("… frame time p95", ms(now.frames.p95), ms(old.frames.p95), x(now.frames.p95, old.frames.p95));
  row("… frame time max", ms(now.frames.max), ms(old.frames.max), x(now.frames.max, old.frames.max));
  row("JS heap after going back", mb(now.heapBack), mb(old.heapBack), x(now.heapBack, old.heapBack));
  row("line nodes after going back", String(now.nodesBack), String(old.nodesBack), x(now.nodesBack, old.nodesBack));
  row("line 1 shown", `${ms(now.lineOneMs)} (${now.lineOneNote})`, `${(old.lineOneMs / 1000).toFixed(0)} s (${old.lineOneNote})`, x(now.lineOneMs, old.lineOneMs));
  row("live lines/s while following", now.liveLinesPerSecond.toFixed(0), old.liveLinesPerSecond.toFixed(0), x(now.liveLinesPerSecond, old.liveLinesPerSecond));
  say("\nserver (median of 5, from this process):\n");
  for (const [label, t] of Object.entries(server)) say(`- ${label}: ${ms(t)}`);
}

async function main(): Promise<void> {
  const rev = args.baseline ?? execFileSync("git", ["merge-base", "HEAD", "main"], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-bench-viewer-"));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory below it
  const log = createLogger("warn");
  const pgServer = await startPostgres(dir, () => {});
  const redisServer = await startRedis(dir, () => {});
  let deps: Deps | null = null;
  let web: Awaited<ReturnType<typeof startWebProcess>> | null = null;
  const browser = await launchBrowser();
  try {
    await migrate(pgServer.url);
    const config = loadConfig({ NODE_ENV: "development", LOG_LEVEL: "warn", DATABASE_URL: pgServer.url, REDIS_URL: redisServer.url, SECRET_KEY, DATA_DIR: dir });
    deps = createDeps(config, { databaseUrl: pgServer.url, redisUrl: redisServer.url, secretKey: SECRET_KEY }, { log });
    const instance = await makeInstance(deps, { name: "Bench University" });
    // Two appservers with the same 1,000,000-line log, being provisioned (so the page follows it):
    // the live lines of one viewer do not land in the other's log.
    const ids: number[] = [];
    for (const number of [1, 2]) {
      const a = await makeAppServer(deps, instance.id, { number, status: "configuring" });
      const t = performance.now();
      await seedAnsibleLog(deps, { appServerId: a.id, lines: LINES, failAt: Math.floor(LINES * 0.73) });
      say(`seeded appserver ${a.id}: ${LINES.toLocaleString("en")} lines in ${ms(performance.now() - t)}`);
      ids.push(a.id);
    }
    await deps.db.$executeRawUnsafe(`VACUUM ANALYZE "LogEntry"`);
    web = await startWebProcess(pgServer.url, redisServer.url, SECRET_KEY);
    const cookie = await loginCookie(deps, web.url);
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: web.url }]);
    // tsx (esbuild keepNames) wraps named functions in the callbacks given to page.evaluate with
    // __name(), which the page does not have.
    await context.addInitScript("window.__name = (f) => f;");
    const baselineUrl = await routeBaseline(context, web.url, ids[1]!, rev, cookie);
    say(`baseline: the viewer at ${rev.slice(0, 12)}`);
    const now = await measureNow(context, deps, web.url, ids[0]!);
    say("measured the current viewer");
    const old = await measureBaseline(context, deps, baselineUrl, ids[1]!, LINES + 1);
    say("measured the baseline");
    report(now, old, await serverTimes(web.url, cookie, ids[0]!));
  } finally {
    await browser.close();
    await web?.stop();
    if (deps) await closeDeps(deps);
    await redisServer.child.stop();
    await pgServer.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
