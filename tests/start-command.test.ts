// `npm start` and `npm run worker` as a person runs them (src/bin/start.ts, src/bin/worker.ts in a
// child process): what they print, their exit status, and what they leave alone when they refuse.
// On the test PostgreSQL and Redis (DATABASE_URL, REDIS_URL), with a MySQL server configured so that
// no MariaDB is started, and HAPROXY_BIN pointing nowhere.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, TEST_LB_DIR, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { waitFor } from "./helpers/wait.js";
import { freePort, processStart } from "../src/embedded/processes.js";

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

describe("npm start", () => {
  let deps: TestDeps;
  let dataDir: string;
  const runs: Run[] = [];

  const env = (extra: Record<string, string> = {}) => ({
    ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", HOST: "127.0.0.1", SECRET_KEY: TEST_SECRET_KEY,
    DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl, QUEUE_PREFIX: deps.config.QUEUE_PREFIX,
    DATA_DIR: dataDir, LOCAL_LB_DIR: TEST_LB_DIR, HAPROXY_BIN: "/nonexistent/haproxy", ...extra,
  });

  function run(script: string, extra: Record<string, string> = {}): Run {
    const child = spawn(process.execPath, ["--import", "tsx", script], { env: env(extra), stdio: ["ignore", "pipe", "pipe"] });
    const r: Run = { child, stdout: "", stderr: "", exited: once(child, "exit").then(([code]) => code as number | null) };
    child.stdout!.on("data", (chunk: Buffer) => (r.stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (r.stderr += chunk.toString()));
    runs.push(r);
    return r;
  }

  /** Its exit status; fails, with what it printed, if it still runs after `ms`. */
  function exitWithin(r: Run, ms: number): Promise<number | null> {
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${r.stdout}\n${r.stderr}`)), ms));
    return Promise.race([r.exited, late]);
  }

  /** Runs `npm start` until it exits (it is expected to refuse). */
  async function refused(extra: Record<string, string> = {}): Promise<Run & { code: number | null }> {
    const r = run("src/bin/start.ts", extra);
    const code = await exitWithin(r, 60_000);
    return { ...r, code }; // spread after the exit: what it printed by then
  }

  beforeAll(async () => {
    deps = await createTestDeps();
    await deps.db.dataService.create({ data: { name: "Campus MySQL", kind: "mysql", isDefault: true, settings: { host: "127.0.0.1", port: 3306 } } });
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-start-"));
  });

  afterAll(async () => {
    for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL");
    await deps?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe("beside a running console on the same DATA_DIR", () => {
    let first: Run;
    let url: string;

    beforeAll(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      first = run("src/bin/start.ts", { PORT: String(port) });
      await waitFor("the first console to start", async () => first.stdout.includes("Press Ctrl-C to stop."), 90_000);
    }, 120_000);

    it("says, without HAProxy at HAPROXY_BIN, that HAPROXY_BIN names no such file (haproxy never ran)", () => {
      expect(first.stdout).toContain("The local load balancer did not start: HAPROXY_BIN /nonexistent/haproxy: no such file");
      expect(first.stdout).not.toContain("refused the new configuration");
    });

    it("refuses a second start at once, naming the running one, and leaves the first one serving", async () => {
      const record = readFileSync(path.join(dataDir, "console.json"), "utf8");
      const second = await refused({ PORT: String(await freePort()) });
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`Ocim is already running on this data directory, ${dataDir} (pid ${first.child.pid}, ${url}).`);
      expect(readFileSync(path.join(dataDir, "console.json"), "utf8")).toBe(record);
      expect((await fetch(`${url}/login`)).status).toBe(200);
    }, 90_000);

    it("stops on SIGINT and gives the data directory up: the next start is not refused", async () => {
      first.child.kill("SIGINT");
      expect(await first.exited).toBe(0);
      const next = await refused({ PORT: "1", HOST: "nosuchhost.invalid" }); // refused later, for its HOST
      expect(next.stderr).not.toContain("already running");
    }, 90_000);
  });

  it("is not refused by the record of a console that was killed (-9): its pid is gone", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    await once(dead, "exit");
    writeFileSync(path.join(dataDir, "console.json"), JSON.stringify({ ownerPid: dead.pid, port: 1 }) + "\n");
    const next = await refused({ HOST: "nosuchhost.invalid" });
    expect(next.stderr).not.toContain("already running");
    expect(next.stderr).toContain("HOST nosuchhost.invalid: no such host name.");
  }, 90_000);

  describe("over the record of a console killed (-9) whose pid another program has now", () => {
    let other: ChildProcess;
    const record = () => path.join(dataDir, "console.json");
    beforeAll(async () => {
      other = spawn("sleep", ["600"], { stdio: "ignore" });
      await once(other, "spawn");
    });
    afterAll(() => {
      other?.kill("SIGKILL");
      rmSync(record(), { force: true });
    });

    it("is not refused: the record names the pid with another start time than the live process's", async () => {
      const start = processStart(other.pid!);
      expect(start).toMatch(/^[0-9a-f-]+\/\d+$/); // Linux: the boot's id and the start in clock ticks
      const killedConsole = `${start!.split("/")[0]}/1`;
      writeFileSync(record(), JSON.stringify({ ownerPid: other.pid, ownerStart: killedConsole, port: 1 }) + "\n");
      const next = await refused({ HOST: "nosuchhost.invalid" });
      expect(next.stderr).not.toContain("already running");
      expect(next.stderr).toContain("HOST nosuchhost.invalid: no such host name.");
    }, 90_000);

    it("is refused when the record cannot tell (no start time: an older Ocim, or no /proc), saying how to clear it", async () => {
      writeFileSync(record(), JSON.stringify({ ownerPid: other.pid, port: 1 }) + "\n");
      const next = await refused({ PORT: String(await freePort()) });
      expect(next.code).toBe(1);
      expect(next.stderr).toContain(`Ocim is already running on this data directory, ${dataDir} (pid ${other.pid}, `);
      expect(next.stderr).toContain(`If no Ocim runs there (pid ${other.pid} is another program now), delete ${record()} and start again.`);
      expect(readFileSync(record(), "utf8")).toBe(JSON.stringify({ ownerPid: other.pid, port: 1 }) + "\n");
    }, 90_000);
  });

  it("lets one of several starts at the same moment over a stale record take the data directory, never two", async () => {
    const claimers = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ["--import", "tsx", "tests/helpers/claim-data-dir.ts"], { stdio: ["pipe", "pipe", "inherit"] });
      const c = { child, out: "" };
      child.stdout!.on("data", (chunk: Buffer) => (c.out += chunk.toString()));
      return c;
    });
    try {
      await waitFor("the claimers to load", async () => claimers.every((c) => c.out.startsWith("ready\n")), 90_000);
      const dead = spawn(process.execPath, ["-e", ""]);
      await once(dead, "exit");
      for (let round = 0; round < 10; round++) {
        const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-claim-"));
        writeFileSync(path.join(dir, "console.json"), JSON.stringify({ ownerPid: dead.pid, port: 1 }) + "\n");
        for (const c of claimers) c.child.stdin!.write(`${dir}\n`);
        const answers = async () => claimers.map((c) => c.out.split("\n").find((l) => l.includes(` ${dir}`)));
        await waitFor(`round ${round}'s answers`, async () => (await answers()).every(Boolean), 30_000);
        const claimed = (await answers()).filter((a) => a!.startsWith("claimed "));
        expect(claimed, `round ${round}: ${(await answers()).join(" | ")}`).toHaveLength(1);
        rmSync(dir, { recursive: true, force: true });
      }
      // A start killed (-9) between making its record and removing its own name for it left both
      // names on one file; a start with its pid now does not write its claim into that record.
      const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-claim-"));
      const [claimer] = claimers;
      writeFileSync(path.join(dir, "console.json"), JSON.stringify({ ownerPid: dead.pid, port: 1 }) + "\n");
      linkSync(path.join(dir, "console.json"), path.join(dir, `console.json.${claimer!.child.pid}.tmp`));
      claimer!.child.stdin!.write(`${dir}\n`);
      const answer = await waitFor("the answer", async () => claimer!.out.split("\n").find((l) => l.includes(` ${dir}`)), 30_000);
      expect(answer).toBe(`claimed ${dir}`);
      expect(JSON.parse(readFileSync(path.join(dir, "console.json"), "utf8"))).toMatchObject({ ownerPid: claimer!.child.pid });
      rmSync(dir, { recursive: true, force: true });
    } finally {
      for (const c of claimers) c.child.kill("SIGKILL");
    }
  }, 150_000);

  it("exits 1 with one readable line naming DATABASE_URL, without its password, when the database cannot be reached", async () => {
    const r = await refused({ DATABASE_URL: "postgresql://ocim:sekret-pw@127.0.0.1:1/ocim" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Ocim could not start: DATABASE_URL: The database migrations could not be applied: Can't reach database server at `127.0.0.1:1`");
    expect(r.stdout + r.stderr).not.toContain("sekret-pw");
  }, 90_000);

  it("exits 1 naming HOST when HOST is no host name, and PORT when another program listens there", async () => {
    const host = await refused({ HOST: "nosuchhost.invalid" });
    expect(host.code).toBe(1);
    expect(host.stderr).toContain("Ocim could not start: HOST nosuchhost.invalid: no such host name.");
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const busy = await refused({ PORT: String(port) });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(`Ocim could not start: PORT ${port}: another program already listens on 127.0.0.1:${port}.`);
    } finally {
      taken.close();
    }
  }, 120_000);

  it("starts while Redis (REDIS_URL) is unreachable, says so, and answers pages with a 503 that says Redis is not reachable", async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const r = run("src/bin/start.ts", { PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    await waitFor("the console to start", async () => r.stdout.includes("Press Ctrl-C to stop."), 60_000);
    expect(r.stdout).toContain(`Redis at 127.0.0.1:${redisPort} (REDIS_URL) is not reachable: pages answer 503 until it is`);
    const page = await fetch(`http://127.0.0.1:${port}/login`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("Redis is not reachable");
    r.child.kill("SIGTERM");
    expect(await r.exited).toBe(0);
  }, 90_000);

  it("says DATA_DIR is not a directory when it names a file, and changes nothing (npm start and npm run worker)", async () => {
    const file = path.join(dataDir, "a-file");
    writeFileSync(file, "mine\n");
    const r = await refused({ DATA_DIR: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`DATA_DIR ${file}: a file is in the way`);
    expect(readFileSync(file, "utf8")).toBe("mine\n");
    const worker = run("src/bin/worker.ts", { DATA_DIR: file });
    expect(await exitWithin(worker, 60_000)).toBe(1);
    expect(worker.stderr).toContain(`DATA_DIR ${file}: a file is in the way`);
    expect(readFileSync(file, "utf8")).toBe("mine\n");
  }, 120_000);

  it("(npm run worker) stops promptly on SIGTERM while Redis is unreachable", async () => {
    const w = run("src/bin/worker.ts", { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    await waitFor("the worker to start", async () => w.stdout.includes("redis.unreachable"), 60_000);
    w.child.kill("SIGTERM");
    expect(await exitWithin(w, 5000)).toBe(0);
  }, 90_000);
});
