// npm run bench:pages — the console's pages with 10,000 instances and 100,000 appservers.
// Own PostgreSQL and Redis in a temp dir, the real web role (src/bin/web.ts) in its own process,
// 20 concurrent clients with a logged-in session. Next to each page: the same page's database
// queries alone (the calls its route makes, plus the session's user lookup), at the same
// concurrency, from this process. Goal: p95 < 50 ms per page on a 2-core machine.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.js";
import { createSecrets } from "../src/crypto.js";
import { createDb, type Db } from "../src/db.js";
import { migrate } from "../src/bin/boot.js";
import { startPostgres } from "../src/embedded/postgres.js";
import { startRedis } from "../src/embedded/redis.js";
import { freePort } from "../src/embedded/processes.js";
import { createLoginLink } from "../src/domain/auth/login-links.js";
import { loadSessionUser } from "../src/domain/auth/session-user.js";
import { listInstances } from "../src/domain/instances/list-instances.js";
import { getInstance } from "../src/domain/instances/get-instance.js";
import { getFleetOverview } from "../src/domain/fleet/get-fleet-overview.js";
import { SIDEBAR_LIMIT } from "../src/web/routes/console.js";
import { instanceAdmin } from "../src/web/admin/models/instances.js";
import { treeCpuMs, measure, ownCpuMs, type Stats } from "./measure.js";
import { seedFleet } from "./seed.js";
import { webRoleArgs } from "./web-process.js";

const FLEET = { instances: 10_000, appServersPerInstance: 10 };
// `npm run bench:pages -- --clients 1 --each 100` shows one request's own latency;
// WEB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the web process;
// WEB_PROCESSES=2 runs the measured web role as two processes sharing its port (src/bin/web.ts).
const { values: args } = parseArgs({
  options: { clients: { type: "string", default: "20" }, each: { type: "string", default: "200" } },
});
const CLIENTS = Number(args.clients);
const EACH = Number(args.each);
// Enough requests for the JIT to settle: a web process serves pages all day.
const WARM_UP = Math.max(5, Math.ceil(500 / CLIENTS));
const GOAL_P95_MS = 50;
const DEFAULTS = loadConfig({ LOG_LEVEL: "silent" });
const ADMIN_PAGE_SIZE = DEFAULTS.ADMIN_PAGE_SIZE; // the default
const PREPARED = process.env.DATABASE_PREPARED_STATEMENTS ?? "true";
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Page {
  label: string;
  path: (i: number) => string;
  /** The database work the page's route does for each request; null when this bench cannot know it. */
  queries: ((db: Db, i: number) => Promise<unknown>) | null;
  /** Served by the second web process, which reads the sidebar for every page view (SIDEBAR_CACHE_MS=0). */
  noReuse?: boolean;
}

const randomId = () => 1 + Math.floor(Math.random() * FLEET.instances);
let userId = 0;
const sessionUser = (db: Db) => loadSessionUser({ db }, userId);
// The home page's panels (issue 16): every one a bounded query, read on each view.
const fleet = (db: Db) => getFleetOverview({ db, config: DEFAULTS, now: () => new Date() });
const sidebar = (db: Db, q = "") => listInstances({ db }, { q, archived: "exclude", limit: SIDEBAR_LIMIT });

// As shipped, the sidebar without a search is read once per SIDEBAR_CACHE_MS per web process, not
// for each request: its query is not part of those pages' per-request work. The rows marked
// "read every time" show the same pages with that reuse off.
const PAGES: Page[] = [
  { label: "/ (fleet home)", path: () => "/", queries: (db) => Promise.all([sessionUser(db), fleet(db)]) },
  { label: "/?q=… (search)", path: (i) => `/?q=site-${i}`, queries: (db, i) => Promise.all([sessionUser(db), sidebar(db, `site-${i}`)]) },
  { label: "/instances/:id (page)", path: (i) => `/instances/${i}`, queries: (db, i) => Promise.all([sessionUser(db), getInstance({ db, now: () => new Date() }, { id: i })]) },
  {
    label: "/admin/instances",
    path: () => "/admin/instances",
    queries: (db) => Promise.all([sessionUser(db), instanceAdmin.list.page!(db, { filters: {}, q: "", sortField: "name", direction: "asc", skip: 0, take: ADMIN_PAGE_SIZE })]),
  },
  // The pages issue 17 found weakest (their SQL is tiny; their cost is the web process's CPU).
  { label: "/admin/instances/:id (form)", path: (i) => `/admin/instances/${i}`, queries: null },
  { label: "/instances/:id/appservers/10", path: (i) => `/instances/${i}/appservers/10`, queries: null },
  { label: "/ sidebar read every time", path: () => "/", queries: (db) => Promise.all([sessionUser(db), sidebar(db), fleet(db)]), noReuse: true },
  { label: "/?state=failing", path: () => "/?state=failing", queries: (db) => Promise.all([sessionUser(db), listInstances({ db }, { state: "failing", limit: SIDEBAR_LIMIT }), fleet(db)]) },
  {
    label: "/instances/:id, same",
    path: (i) => `/instances/${i}`,
    queries: (db, i) => Promise.all([sessionUser(db), sidebar(db), getInstance({ db, now: () => new Date() }, { id: i })]),
    noReuse: true,
  },
];

async function startWebProcess(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, webRoleArgs(process.env.WEB_NODE_ARGS?.split(" ") ?? []), {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  // Two minutes: on a machine shared with test suites (load 20+), tsx alone can take half of it.
  for (let tries = 0; tries < 1200; tries++) {
    if (await fetch(`${url}/login`).then(() => true, () => false)) return { url, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGTERM");
  throw new Error("the web process did not start within 2 minutes");
}

async function logIn(url: string, token: string): Promise<string> {
  const res = await fetch(`${url}/login/${token}`, { redirect: "manual" });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("ocim.sid="));
  if (res.status !== 302 || !cookie) throw new Error(`login failed: ${res.status}`);
  return cookie.split(";")[0]!;
}

// The load generator shares the machine with what it measures, so it should cost little: node:http
// with kept-alive connections takes about a third of fetch()'s CPU per request (measured).
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });

function httpGet(url: string, cookie: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers: { cookie } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    }).on("error", reject);
  });
}

/** CPU milliseconds used so far by each process taking part, for a split of each request's CPU. */
type CpuSampler = () => Record<CpuPart, number>;
type CpuPart = "web" | "postgres" | "redis" | "client";
const CPU_PARTS: CpuPart[] = ["web", "postgres", "redis", "client"];

async function benchPage(url: string, cookies: string[], db: Db, page: Page, cpu: CpuSampler) {
  const ids = Array.from({ length: CLIENTS * Math.max(EACH, WARM_UP) }, randomId);
  const statuses = new Set<number>();
  let bytes = 0;
  const get = async (client: number, i: number) => {
    const res = await httpGet(url + page.path(i), cookies[client]!);
    statuses.add(res.status);
    bytes = res.text.length;
  };
  const queries = page.queries;
  const query = async (c: number, i: number) => void (await queries?.(db, ids[c * EACH + i]!));
  // Warm-up (JIT, compiled views, connection pools) before either measurement.
  await measure(CLIENTS, WARM_UP, (c, i) => get(c, ids[c * EACH + i]!));
  await measure(CLIENTS, WARM_UP, query);
  const before = cpu();
  const http = await measure(CLIENTS, EACH, (c, i) => get(c, ids[c * EACH + i]!));
  const after = cpu();
  const cpuPerRequest = Object.fromEntries(CPU_PARTS.map((p) => [p, (after[p] - before[p]) / http.calls])) as Record<CpuPart, number>;
  const dbOnly = queries ? await measure(CLIENTS, EACH, query) : null;
  return { page, http, dbOnly, cpuPerRequest, statuses: [...statuses].sort(), kb: Math.round(bytes / 1024) };
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join("  ");
}

function printTable(results: Awaited<ReturnType<typeof benchPage>>[]): void {
  const widths = [26, 6, 5, 6, 7, 7, 7, 7, 8, 5];
  const ms = (n: number) => n.toFixed(1);
  process.stdout.write(`\n${CLIENTS} clients × ${EACH} requests per page; times in ms\n`);
  process.stdout.write(row(["page", "status", "KB", "req/s", "p50", "p95", "db p50", "db p95", "db/page", "goal"], widths) + "\n");
  for (const { page, http, dbOnly, statuses, kb } of results) {
    const db: Partial<Stats> = dbOnly ?? {};
    process.stdout.write(row([
      page.label, statuses.join(","), kb, Math.round(http.perSecond), ms(http.p50), ms(http.p95),
      db.p50 === undefined ? "n/a" : ms(db.p50), db.p95 === undefined ? "n/a" : ms(db.p95),
      db.p50 === undefined ? "n/a" : `${Math.round((db.p50 / http.p50) * 100)}%`, page.noReuse ? "(ref)" : http.p95 < GOAL_P95_MS ? "ok" : "SLOW",
    ], widths) + "\n");
  }
  process.stdout.write(`db/page: median time of the page's queries alone ÷ median time of the page.\n`);
  // Where each request's CPU went: with every core busy, a page is only faster if this total falls.
  const cpuWidths = [26, 7, 10, 7, 9, 7, 12];
  process.stdout.write(`\nCPU per request during the page's run, in ms (from /proc)\n`);
  process.stdout.write(row(["page", "web", "PostgreSQL", "Redis", "load gen", "total", "cores busy"], cpuWidths) + "\n");
  for (const { page, http, cpuPerRequest: c } of results) {
    const total = c.web + c.postgres + c.redis + c.client;
    process.stdout.write(row([page.label, ms(c.web), ms(c.postgres), ms(c.redis), ms(c.client), ms(total), ((total * http.perSecond) / 1000).toFixed(2)], cpuWidths) + "\n");
  }
  process.stdout.write(`(ref): the same page with SIDEBAR_CACHE_MS=0, for comparison; the goal is for the pages as shipped.\n`);
  // The machine may be shared: a load far above its cores makes every figure above slower.
  process.stdout.write(`web role: ${process.env.WEB_PROCESSES ?? "1"} process(es) (WEB_PROCESSES), DATABASE_PREPARED_STATEMENTS=${PREPARED}\n`);
  process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} on ${os.availableParallelism()} cores\n`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-bench-pages-"));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory below it
  const pg = await startPostgres(dir, () => {});
  const redis = await startRedis(dir, () => {});
  const webs: ChildProcess[] = [];
  const db = createDb(pg.url, { max: 10 });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    // SIGINT: a web process shuts down by itself (and writes its profile, if asked to).
    agent.destroy();
    await Promise.all(webs.map((web) => web.exitCode === null && new Promise((r) => web.once("exit", r).kill("SIGINT"))));
    await db.$disconnect();
    await redis.child.stop();
    await pg.child.stop();
    rmSync(dir, { recursive: true, force: true });
  })());
  // Stopped by Ctrl-C or a kill: PostgreSQL and Redis run on their own, so stop them before leaving.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      // Work under way (the seed's connection) fails as its database stops: expected, not news.
      process.on("uncaughtException", () => {});
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    await migrate(pg.url);
    let t0 = performance.now();
    await seedFleet(pg.url, FLEET, createSecrets(SECRET_KEY));
    process.stdout.write(`Seeded ${FLEET.instances} instances, ${FLEET.instances * FLEET.appServersPerInstance} appservers in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    // A direct connection, so prepared statements on, as README recommends for one (off by default);
    // an organization, as on any real console (the appserver page then works out the SSH command).
    const env = { DATABASE_URL: pg.url, REDIS_URL: redis.url, SECRET_KEY, NODE_ENV: "development", DATABASE_PREPARED_STATEMENTS: PREPARED, GITHUB_ORG: "bench" };
    const shipped = await startWebProcess({ ...env, WEB_PROCESSES: process.env.WEB_PROCESSES ?? "1" });
    const noReuse = await startWebProcess({ ...env, SIDEBAR_CACHE_MS: "0" });
    webs.push(shipped.child, noReuse.child);
    const config = loadConfig({ ...env, LOG_LEVEL: "silent" });
    // One session per client, like people each logged in on their own; sessions live in Redis, so
    // a cookie logs in to both processes.
    const cookies: string[] = [];
    for (let c = 0; c < CLIENTS; c++) cookies.push(await logIn(shipped.url, await createLoginLink({ db, config, now: () => new Date() })));
    userId = (await db.user.findUniqueOrThrow({ where: { githubLogin: "local-admin" } })).id;
    const results = [];
    t0 = performance.now();
    // ONLY=admin measures the pages whose label contains "admin"; ONLY="(form),appservers" either.
    const only = process.env.ONLY?.split(",");
    for (const page of PAGES.filter((p) => !only || only.some((part) => p.label.includes(part)))) {
      const web = page.noReuse ? noReuse : shipped;
      const cpu = () => ({
        web: treeCpuMs(web.child.pid!), // with WEB_PROCESSES > 1, its web processes are its children
        postgres: treeCpuMs(pg.child.process.pid!),
        redis: treeCpuMs(redis.child.process.pid!),
        client: ownCpuMs(),
      });
      results.push(await benchPage(web.url, cookies, db, page, cpu));
    }
    printTable(results);
    // Issue 16's goal for the fleet home: ≥6× the speed of a Django admin change list. The baseline
    // measured in this same run is Ocim's own Django-admin-like change list of the same instances.
    const home = results.find((r) => r.page.label.startsWith("/ (fleet home)"));
    const adminList = results.find((r) => r.page.label === "/admin/instances");
    if (home && adminList) {
      const ratio = adminList.http.p50 / home.http.p50;
      process.stdout.write(`fleet home vs /admin/instances (Django-admin-like baseline): p50 ${home.http.p50.toFixed(1)} vs ${adminList.http.p50.toFixed(1)} ms = ${ratio.toFixed(1)}× (goal ≥ 6×)\n`);
    }
    process.stdout.write(`(measured in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } finally {
    await stop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:pages failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
