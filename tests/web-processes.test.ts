// WEB_PROCESSES=2: `npm run web` as two processes sharing one port (node:cluster), each serving
// pages and live updates, as the real command runs them (src/bin/web.ts in a child process).
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { io as connect, type Socket } from "socket.io-client";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { connected, request, spreadAppServerIds } from "./helpers/live.js";
import { waitFor } from "./helpers/wait.js";
import { freePort } from "../src/embedded/processes.js";
import { createLoginLink } from "../src/domain/auth/login-links.js";
import { createLogWriter } from "../src/domain/logs/log-writer.js";
import { publishAppServerStatus } from "../src/domain/appservers/publish-status.js";
import type { AppServerStatusMessage, LogLine } from "../src/domain/logs/live-channels.js";

/** The web processes the primary forked: its children running src/bin/web.ts (from /proc). */
function webChildrenOf(pid: number): number[] {
  return readdirSync("/proc").filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return ppid === pid && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("src/bin/web.ts");
    } catch {
      return false; // exited meanwhile
    }
  });
}

describe("the web role as two processes (WEB_PROCESSES=2)", () => {
  let deps: TestDeps;
  let web: ChildProcess;
  let url: string;
  let cookie: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    deps = await createTestDeps();
    await spreadAppServerIds(deps);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    web = spawn(process.execPath, ["--import", "tsx", "src/bin/web.ts"], {
      env: {
        ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", WEB_PROCESSES: "2", HOST: "127.0.0.1", PORT: String(port),
        DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl, SECRET_KEY: TEST_SECRET_KEY, QUEUE_PREFIX: deps.config.QUEUE_PREFIX,
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    await waitFor("the web processes to answer", () => fetch(`${url}/login`).then((r) => r.ok, () => false), 60_000);
    const res = await fetch(`${url}/login/${await createLoginLink(deps)}`, { redirect: "manual" });
    cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).find((c) => c.startsWith("ocim.sid="))!;
    expect(res.status).toBe(302);
  }, 90_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    if (web && web.exitCode === null) {
      web.kill("SIGTERM");
      await once(web, "exit");
    }
    await deps?.close();
  });

  it("runs two processes on one port; both serve the logged-in console", async () => {
    await waitFor("two web processes", async () => webChildrenOf(web.pid!).length === 2, 30_000);
    const instance = await makeInstance(deps, { name: "Cluster Academy" });
    // The primary hands connections round-robin: six fresh connections reach both processes.
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/instances/${instance.id}`, { headers: { cookie, connection: "close" } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("Cluster Academy");
    }
  });

  it("streams live logs and statuses to sockets on either process; long-polling is refused, not half-served", async () => {
    const instanceId = (await makeInstance(deps)).id;
    const appServerId = (await makeAppServer(deps, instanceId)).id;
    // As the console's pages connect (public/js/live-socket.js): WebSocket first, polling as a fallback.
    const open = () => {
      const s = connect(url, { transports: ["websocket", "polling"], tryAllTransports: true, extraHeaders: { cookie }, reconnection: false, forceNew: true });
      sockets.push(s);
      return s;
    };
    // Four sockets on fresh connections: round-robin puts two on each process.
    const clients = [open(), open(), open(), open()];
    await Promise.all(clients.map(connected));
    expect(clients.every((s) => s.io.engine.transport.name === "websocket")).toBe(true);

    const lines = clients.map((s) => {
      const seen: LogLine[] = [];
      s.on("log", (msg: { appServerId: number; lines: LogLine[] }) => msg.appServerId === appServerId && seen.push(...msg.lines));
      return seen;
    });
    const statuses = clients.map((s) => {
      const seen: AppServerStatusMessage[] = [];
      s.on("status", (m: AppServerStatusMessage) => seen.push(m));
      return seen;
    });
    for (const s of clients) {
      expect(await request(s, "subscribe", { appServerId, afterSeq: 0 })).toMatchObject({ lines: [], reset: false });
      expect(await request(s, "watch-instance", { instanceId })).toMatchObject({ statuses: [{ appServerId, status: "new" }] });
    }

    const writer = createLogWriter(deps, { appServerId, secrets: [] });
    for (let i = 1; i <= 50; i++) await writer.write(`line ${i}`);
    await writer.flush();
    await publishAppServerStatus(deps, { appServerId, instanceId, status: "configuring", vmStatus: "ready" });
    await waitFor("every socket's lines and status", async () => lines.every((seen) => seen.length === 50) && statuses.every((seen) => seen.length > 0), 20_000);
    for (const seen of lines) expect(seen.map((l) => l.text)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
    for (const seen of statuses) expect(seen.at(-1)).toMatchObject({ appServerId, status: "configuring", vmStatus: "ready" });

    // A polling session's next request could reach the other process: the processes refuse polling
    // at its first request, with socket.io's own answer, instead of failing it midway.
    const polling = connect(url, { transports: ["polling"], extraHeaders: { cookie }, reconnection: false, forceNew: true });
    sockets.push(polling);
    const err = await new Promise<Error>((r) => polling.once("connect_error", r));
    expect(err.message).toBe("xhr poll error");
    const answer = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { cookie } });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({ code: 0, message: "Transport unknown" });
  }, 60_000);

  it("stops both processes on SIGTERM", async () => {
    const children = webChildrenOf(web.pid!);
    expect(children).toHaveLength(2);
    web.kill("SIGTERM");
    const [code] = await once(web, "exit");
    expect(code).toBe(0);
    for (const pid of children) expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);
});
