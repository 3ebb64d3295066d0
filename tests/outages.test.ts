// While Redis or PostgreSQL is away, pages and the API answer 503 saying which one (issue 10,
// findings 5 and 6), within the 2 s a person waits: each request below is abandoned after 2 s.
// Each part runs on a server of its own, started here and stopped by the test, so that the shared
// ones stay up for the other test files.
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/web/app.js";
import { createDeps, closeDeps, type Deps } from "../src/deps.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { createLoginLink } from "../src/domain/auth/login-links.js";
import { migrate } from "../src/bin/boot.js";
import { startPostgres, type EmbeddedPostgres } from "../src/embedded/postgres.js";
import { startRedis, type EmbeddedRedis } from "../src/embedded/redis.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { Agent, visibleText } from "./helpers/browserless.js";
import { testConfig, TEST_SECRET_KEY } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { waitFor } from "./helpers/wait.js";

const PERSON_WAITS_MS = 2000;

describe("with Redis down", () => {
  let dataDir: string;
  let redis: EmbeddedRedis;
  let t: TestApp;
  let admin: Agent;
  let bearer: Record<string, string>;
  let instanceId: number;
  let squatter: net.Server;
  const held: net.Socket[] = [];
  const consoleError = vi.spyOn(console, "error");
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-redis-down-"));
    redis = await startRedis(dataDir, () => {});
    t = await startTestApp({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: "1000" });
    admin = await t.loginAsLocalAdmin();
    await t.loginAs("robot");
    bearer = { authorization: `Bearer ${(await createApiToken(t.deps, { githubLogin: "robot", actor: { id: null, login: "test" } })).token}` };
    instanceId = (await makeInstance(t.deps, { name: "Alpha", internalLmsDomain: "alpha.example.test" })).id;
    expect((await admin.get("/")).status).toBe(200);
    await redis.child.stop();
    // Hold the port it freed: under a loaded parallel run, another test file's password-less Redis
    // once started on it, and ioredis (which ignores "AUTH … without any password configured")
    // happily used that one instead (a 200 where the outage must answer 503). The squatter accepts
    // connections and never answers, like a hung Redis: ioredis then sits in "connect" waiting for
    // its ready check, which is still an outage (a launch was once accepted in that state).
    squatter = net.createServer((socket) => held.push(socket));
    await new Promise<void>((r) => squatter.listen(Number(new URL(redis.url).port), "127.0.0.1", () => r()));
    await waitFor("the console's Redis client to reconnect to the hung port", async () => t.deps.redis.status === "connect", 30_000, 50);
  });
  afterAll(async () => {
    consoleError.mockRestore();
    held.forEach((socket) => socket.destroy());
    await new Promise<void>((r) => (squatter ? squatter.close(() => r()) : r()));
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers a page with a 503 that says Redis is not reachable", async () => {
    for (const page of ["/", `/instances/${instanceId}`, "/login"]) {
      const res = await admin.get(page, { timeoutMs: PERSON_WAITS_MS });
      expect(res.status, page).toBe(503);
      expect(res.headers.get("retry-after"), page).toBe("5");
      expect(visibleText(res.text), page).toContain("Redis is not reachable");
    }
  });

  it("answers the API with a JSON 503 that says so", async () => {
    for (const [method, url] of [["GET", "/api/v1/instances"], ["POST", `/api/v1/instances/${instanceId}/appservers`]] as const) {
      const res = await t.agent().request(method, url, { headers: bearer, json: method === "POST" ? {} : undefined, timeoutMs: PERSON_WAITS_MS });
      expect(res.status, url).toBe(503);
      expect(res.headers.get("retry-after"), url).toBe("5");
      expect(res.json(), url).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("Redis is not reachable") } });
    }
  });

  it("leaves no 'unhandled error event' lines from the Redis clients", () => {
    const printed = consoleError.mock.calls.map((args) => args.map(String).join(" "));
    expect(printed.filter((line) => /ioredis|Unhandled error|ECONNREFUSED/.test(line))).toEqual([]);
  });
});

describe("with PostgreSQL down", () => {
  let dataDir: string;
  let postgres: EmbeddedPostgres;
  let deps: Deps;
  let server: http.Server;
  let admin: Agent;
  let bearer: Record<string, string>;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-pg-down-"));
    chmodSync(dataDir, 0o755); // the postgres user must reach its data directory below it
    postgres = await startPostgres(dataDir, () => {});
    await migrate(postgres.url);
    const redisUrl = inject("redisUrl");
    deps = createDeps(testConfig({ DATABASE_URL: postgres.url, REDIS_URL: redisUrl, QUEUE_PREFIX: "ocimtest-pg-down" }), {
      databaseUrl: postgres.url, redisUrl, secretKey: TEST_SECRET_KEY,
    });
    server = http.createServer(createApp(deps).app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    admin = new Agent(url);
    await admin.get(`/login/${await createLoginLink(deps)}`);
    const robot = await deps.db.user.create({ data: { githubLogin: "robot" } });
    bearer = { authorization: `Bearer ${(await createApiToken(deps, { githubLogin: robot.githubLogin, actor: { id: null, login: "test" } })).token}` };
    expect((await admin.get("/")).status).toBe(200);
    await postgres.child.stop();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await closeDeps(deps);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers a page with a 503 that says the database is not reachable", async () => {
    const res = await admin.get("/", { timeoutMs: PERSON_WAITS_MS });
    expect(res.status).toBe(503);
    expect(visibleText(res.text)).toContain("The database is not reachable");
  });

  it("answers the API with a JSON 503 that says so", async () => {
    const res = await admin.get("/api/v1/instances", { headers: bearer, timeoutMs: PERSON_WAITS_MS });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(res.json()).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("The database is not reachable") } });
  });
});

// A PostgreSQL that accepts TCP and then says nothing (a host that froze, a proxy whose backend is
// gone): every page used to hang for as long as the person waited. It answers 503 once
// DATABASE_CONNECT_TIMEOUT_MS has passed.
describe("with a PostgreSQL that accepts connections and never answers", () => {
  let silent: net.Server;
  const held: net.Socket[] = [];
  let t: TestApp;
  let hung: Deps;
  let admin: Agent;
  let bearer: Record<string, string>;
  beforeAll(async () => {
    silent = net.createServer((socket) => void held.push(socket.on("error", () => {})));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const silentUrl = `postgresql://ocim:secret@127.0.0.1:${(silent.address() as AddressInfo).port}/ocim`;
    t = await startTestApp();
    // Logged in against the real database; then the same server answers with an app whose database hangs.
    admin = await t.loginAsLocalAdmin();
    await t.loginAs("robot");
    bearer = { authorization: `Bearer ${(await createApiToken(t.deps, { githubLogin: "robot", actor: { id: null, login: "test" } })).token}` };
    const env = { DATABASE_URL: silentUrl, REDIS_URL: t.deps.redisUrl, QUEUE_PREFIX: t.deps.config.QUEUE_PREFIX, DATABASE_CONNECT_TIMEOUT_MS: "500", PUBLIC_URL: t.url };
    hung = createDeps(testConfig(env), { databaseUrl: silentUrl, redisUrl: t.deps.redisUrl, secretKey: TEST_SECRET_KEY });
    t.server.removeAllListeners("request");
    t.server.on("request", createApp(hung).app);
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await closeDeps(hung);
    await t.close();
  });

  it("answers a page with a 503 that says the database is not reachable", async () => {
    const res = await admin.get("/", { timeoutMs: PERSON_WAITS_MS });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(visibleText(res.text)).toContain("The database is not reachable");
    expect(held.length).toBeGreaterThan(0); // it did reach the silent server
  });

  it("answers the API with a JSON 503 that says so", async () => {
    const res = await t.agent().get("/api/v1/instances", { headers: bearer, timeoutMs: PERSON_WAITS_MS });
    expect(res.status).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: "unavailable", message: expect.stringContaining("The database is not reachable") } });
  });
});

// A statement PostgreSQL cancels after DATABASE_STATEMENT_TIMEOUT_MS (57014): here the page's table
// is locked by another session, as a long migration or a stuck transaction would hold it. It used to
// be a 500 "something went wrong"; it is a 503 that says the database did not answer in time.
describe("with a table locked past DATABASE_STATEMENT_TIMEOUT_MS", () => {
  let t: TestApp;
  let admin: Agent;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: "300" });
    admin = await t.loginAsLocalAdmin();
    await makeInstance(t.deps, { name: "Locked University" });
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers the page with a 503 that says the database did not answer in time", async () => {
    let unlock!: () => void;
    let locked!: () => void;
    const unlocked = new Promise<void>((r) => (unlock = r));
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = t.deps.db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`LOCK TABLE "Instance" IN ACCESS EXCLUSIVE MODE`);
      locked();
      await unlocked;
    }, { timeout: 10_000 });
    await isLocked;
    try {
      const res = await admin.get("/", { timeoutMs: PERSON_WAITS_MS });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(visibleText(res.text)).toContain("The database did not answer in time");
    } finally {
      unlock();
      await holder;
    }
    expect((await admin.get("/")).status).toBe(200);
  });
});
