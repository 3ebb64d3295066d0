// The embedded PostgreSQL and Redis of `npm start` (issue 10, findings 2 and 5), and its MariaDB (issue 12): a password on every
// connection, kept in DATA_DIR with mode 600; loopback only; restarted when they die.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import net from "node:net";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningPostgresUrl, startPostgres, type EmbeddedPostgres } from "../src/embedded/postgres.js";
import { runningRedisUrl, startRedis, type EmbeddedRedis } from "../src/embedded/redis.js";
import { startChild } from "../src/embedded/processes.js";
import { supervise } from "../src/embedded/supervise.js";
import mysql from "mysql2/promise";
import { pino } from "pino";
import { createMysqlAdapter, mysqlCredentialsSchema, mysqlSettingsSchema } from "../src/adapters/data/mysql.js";
import { startEmbeddedMysql, type EmbeddedMysql } from "../src/domain/data/start-embedded-mysql.js";
import { findMariadbd, MARIADB_MISSING } from "../src/embedded/mariadb.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";

const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

async function query(config: pg.ClientConfig | string, sql: string): Promise<unknown[]> {
  const client = new pg.Client(typeof config === "string" ? { connectionString: config } : config);
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Redis's reply to PING (after AUTH when given a password), as the protocol spells it. */
function ping(url: string): Promise<string> {
  const { port, password } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1");
    let reply = "";
    socket.on("connect", () => socket.write(password ? `AUTH ${password}\r\nPING\r\n` : "PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      const lines = reply.split("\r\n").filter(Boolean);
      if (lines.length === (password ? 2 : 1) || lines[0]?.startsWith("-")) (socket.destroy(), resolve(lines.find((l) => l.startsWith("-")) ?? lines.at(-1)!));
    });
    socket.on("error", reject);
  });
}

/** Until `check` passes (a restart takes a second or two); rethrows its last failure after 60 s. */
async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe("the embedded PostgreSQL", () => {
  let dataDir: string;
  let server: EmbeddedPostgres | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-pg-auth-"));
    chmodSync(dataDir, 0o755); // the postgres user must reach its data directory below it
  });
  afterAll(async () => {
    await server?.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const port = () => Number(new URL(server!.url).port);
  const expectPasswordRequired = async () => {
    const port_ = port();
    for (const host of ["127.0.0.1", path.join(dataDir, "run")]) {
      await expect(query({ host, port: port_, user: "ocim", database: "ocim" }, "SELECT 1"), `no password over ${host}`).rejects.toThrow(/password/);
      await expect(query({ host, port: port_, user: "ocim", database: "ocim", password: "guess" }, "SELECT 1"), `a wrong password over ${host}`)
        .rejects.toThrow(/password authentication failed/);
    }
    expect(await query(server!.url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  };

  it("asks every connection, TCP or unix socket, for the password kept in DATA_DIR (mode 600)", async () => {
    server = await startPostgres(dataDir, () => {});
    const password = readFileSync(path.join(dataDir, "postgres_password"), "utf8").trim();
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(modeOf(path.join(dataDir, "postgres_password"))).toBe("600");
    expect(new URL(server.url).password).toBe(password);
    await expectPasswordRequired();
    expect(await query(server.url, "SHOW listen_addresses")).toEqual([{ listen_addresses: "127.0.0.1" }]);
    expect(await runningPostgresUrl(dataDir)).toBe(server.url);
  });

  it("upgrades a data directory that an older Ocim made with trust authentication", async () => {
    await server!.child.stop();
    // What initdb --auth=trust left, and no password file yet.
    writeFileSync(path.join(dataDir, "postgres", "pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 trust\n");
    unlinkSync(path.join(dataDir, "postgres_password"));
    server = await startPostgres(dataDir, () => {});
    await expectPasswordRequired();
    expect(readFileSync(path.join(dataDir, "postgres", "pg_hba.conf"), "utf8")).not.toMatch(/trust/);
  });

  it("is started again when its server process is killed", async () => {
    await server!.child.stop();
    server = await startPostgres(dataDir, () => {}, { firstDelayMs: 100 });
    const postmaster = Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, "SIGKILL");
    // Its orphaned backends hold on to shared memory for a moment: the first attempts may fail.
    expect(await eventually(() => query(server!.url, "SELECT 1 AS one"))).toEqual([{ one: 1 }]);
    expect(Number(readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0])).not.toBe(postmaster);
  });
});

describe("the embedded Redis", () => {
  let dataDir: string;
  let server: EmbeddedRedis;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-redis-auth-"));
    server = await startRedis(dataDir, () => {}, { firstDelayMs: 100 });
  });
  afterAll(async () => {
    await server.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses commands without the password kept in DATA_DIR (mode 600), and listens on 127.0.0.1 only", async () => {
    const password = readFileSync(path.join(dataDir, "redis_password"), "utf8").trim();
    expect(modeOf(path.join(dataDir, "redis_password"))).toBe("600");
    expect(new URL(server.url).password).toBe(password);
    const port = new URL(server.url).port;
    expect(await ping(`redis://127.0.0.1:${port}`)).toBe("-NOAUTH Authentication required.");
    expect(await ping(`redis://:guess@127.0.0.1:${port}`)).toMatch(/^-WRONGPASS/);
    expect(await ping(server.url)).toBe("+PONG");
    const redis = new Redis(server.url);
    expect(await redis.config("GET", "bind")).toEqual(["bind", "127.0.0.1"]);
    redis.disconnect();
    expect(await runningRedisUrl(dataDir)).toBe(server.url);
    expect(readFileSync("/proc/" + server.child.process.pid + "/cmdline", "utf8")).not.toContain(password);
  });

  it("is started again when it dies, on the same port and password", async () => {
    const killed = server.child.process;
    process.kill(killed.pid!, "SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    // The new server may answer a moment before its supervisor has seen it answer.
    await eventually(async () => expect(server.child.process.pid).not.toBe(killed.pid));
    expect(await ping(server.url)).toBe("+PONG");
  });
});

describe("the supervisor", () => {
  it("waits twice as long before each restart of a process that keeps dying, and says so", async () => {
    const said: { event: string; restartInMs?: number; code?: number }[] = [];
    let starts = 0;
    const child = await supervise("crasher", async () => (starts++, startChild("crasher", "sh", ["-c", "exit 3"], () => {})), {
      firstDelayMs: 5,
      log: { warn: ((fields: { restartInMs?: number; code?: number }, event: string) => void said.push({ event, ...fields })) as never },
    });
    await eventually(async () => expect(said.filter((s) => s.event === "embedded.crasher.exited").length).toBeGreaterThanOrEqual(4));
    await child.stop();
    const exits = said.filter((s) => s.event === "embedded.crasher.exited");
    expect(exits.slice(0, 4).map((s) => [s.restartInMs, s.code])).toEqual([[5, 3], [10, 3], [20, 3], [40, 3]]);
    expect(said.filter((s) => s.event === "embedded.crasher.restarted").length).toBeGreaterThanOrEqual(3);
    expect(starts).toBeGreaterThanOrEqual(4);
  });
});

describe("the embedded MariaDB (instances' MySQL server)", () => {
  let dataDir: string;
  let deps: TestDeps;
  let said: { msg: string; reason?: string }[];
  let started: EmbeddedMysql | undefined;
  const bin = findMariadbd();
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-mariadb-"));
    said = [];
    deps = await createTestDeps({}, { log: pino({ level: "debug" }, { write: (line: string) => void said.push(JSON.parse(line)) }) });
  });
  afterAll(async () => {
    if (started?.state === "started") await started.child.stop();
    await deps.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const service = async () => {
    const rows = await deps.db.dataService.findMany({ where: { kind: "mysql" } });
    return rows.map((r) => ({ ...r, credentials: r.credentialsEncrypted ? (JSON.parse(deps.secrets.decrypt(r.credentialsEncrypted)) as { username: string; password: string }) : null }));
  };
  const login = async (port: number, password?: string, user = "ocim") => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port, user, password });
    try {
      return (await c.query<mysql.RowDataPacket[]>("SELECT @@bind_address AS bind, CURRENT_USER() AS me"))[0];
    } finally {
      await c.end();
    }
  };

  it("is installed here (the tests below need it; .ci/run installs mariadb-server)", () => {
    expect(bin).toMatch(/mariadbd$/);
  });

  it("says, without MariaDB, that the data panel needs a MySQL server and how to install one; records nothing", async () => {
    expect(await startEmbeddedMysql(deps, { dataDir, mariadbd: null })).toEqual({ state: "missing", message: MARIADB_MISSING });
    expect(said.filter((l) => l.msg === "embedded.mariadb.missing").map((l) => l.reason)).toEqual([MARIADB_MISSING]);
    expect(MARIADB_MISSING).toMatch(/instance data panel works only with a MySQL server configured.*apt-get install mariadb-server/);
    expect(await service()).toEqual([]);
  });

  it("starts under DATA_DIR/mariadb, asks for the password kept in DATA_DIR (mode 600), and is recorded as the default MySQL server", async () => {
    started = await startEmbeddedMysql(deps, { dataDir, mariadbd: bin, supervise: { firstDelayMs: 100 } });
    if (started.state !== "started") throw new Error(started.state);
    const password = readFileSync(path.join(dataDir, "mariadb_password"), "utf8").trim();
    expect(password.length).toBeGreaterThanOrEqual(40);
    expect(modeOf(path.join(dataDir, "mariadb_password"))).toBe("600");
    expect(modeOf(path.join(dataDir, "mariadb"))).toBe("700");
    expect(readFileSync(`/proc/${started.child.process.pid}/cmdline`, "utf8")).not.toContain(password);

    const [row] = await service();
    expect(row).toMatchObject({ name: "Embedded MySQL", kind: "mysql", isDefault: true, settings: { host: "127.0.0.1", port: started.port, tls: false } });
    expect(row!.credentials).toEqual({ username: "ocim", password });
    expect(row!.credentialsEncrypted).not.toContain(password);
    const adapter = createMysqlAdapter(mysqlSettingsSchema.parse(row!.settings), mysqlCredentialsSchema.parse(row!.credentials));
    expect(await adapter.check()).toEqual({ version: expect.stringMatching(/MariaDB/) });
    expect(await login(started.port, password)).toEqual([{ bind: "127.0.0.1", me: "ocim@127.0.0.1" }]);
    await expect(login(started.port)).rejects.toThrow(/Access denied/);
    await expect(login(started.port, "guess")).rejects.toThrow(/Access denied/);
    // MariaDB's own root (socket only) and no anonymous user over TCP.
    for (const user of ["root", "mysql", ""]) await expect(login(started.port, undefined, user), user).rejects.toThrow(/Access denied/);
    expect(await deps.db.auditEvent.count({ where: { action: "data_service.created", subjectType: "DataService" } })).toBe(1);
  });

  it("is started again when it dies, on the same port", async () => {
    if (started?.state !== "started") throw new Error("not started");
    const killed = started.child.process;
    process.kill(killed.pid!, "SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    await eventually(async () => expect(started!.state === "started" && started!.child.process.pid).not.toBe(killed.pid));
    const password = readFileSync(path.join(dataDir, "mariadb_password"), "utf8").trim();
    expect(await eventually(() => login(started!.state === "started" ? started!.port : 0, password))).toHaveLength(1);
  });

  it("keeps its port and row on the next start, and takes up a regenerated password", async () => {
    if (started?.state !== "started") throw new Error("not started");
    const port = started.port;
    await started.child.stop();
    unlinkSync(path.join(dataDir, "mariadb_password"));
    started = await startEmbeddedMysql(deps, { dataDir, mariadbd: bin });
    expect(started).toMatchObject({ state: "started", port });
    const password = readFileSync(path.join(dataDir, "mariadb_password"), "utf8").trim();
    const rows = await service();
    expect(rows.map((r) => [r.name, r.credentials?.password])).toEqual([["Embedded MySQL", password]]);
    expect(await login(port, password)).toHaveLength(1);
  });

  it("is not started when another MySQL server is configured", async () => {
    if (started?.state === "started") await started.child.stop();
    await deps.db.dataService.deleteMany({});
    await deps.db.dataService.create({ data: { name: "Production MySQL", kind: "mysql", isDefault: true, settings: { host: "db.example.com" } } });
    started = await startEmbeddedMysql(deps, { dataDir, mariadbd: bin });
    expect(started).toEqual({ state: "not_needed" });
    expect((await service()).map((r) => r.name)).toEqual(["Production MySQL"]);
  });
});
