// The database client's raw reads ($queryRaw, for the pages whose query a model query cannot say
// in one round trip) give what the model API gives, the same with DATABASE_PREPARED_STATEMENTS, and
// the lists' totals follow every write.
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../src/generated/prisma/client.ts";
import { clientCalledBack, createDb, isDatabaseUnreachable, PREPARED_STATEMENTS_LOST, readJson } from "../src/db.js";
import { getAppServerDetail } from "../src/domain/appservers/get-appserver-detail.js";
import { getInstance } from "../src/domain/instances/get-instance.js";
import { listInstances } from "../src/domain/instances/list-instances.js";
import { loadSessionUser } from "../src/domain/auth/session-user.js";
import { instanceAdmin } from "../src/web/admin/models/instances.js";
import { appServerAdmin } from "../src/web/admin/models/app-servers.js";
import { modelBySlug } from "../src/web/admin/registry.js";
import type { AdminModel } from "../src/web/admin/types.js";
import { loadChangeList, parseListQuery } from "../src/web/admin/change-list.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { startPgBouncer } from "./helpers/pgbouncer.js";

let deps: TestDeps;

beforeAll(async () => {
  deps = await createTestDeps();
  await makeInstance(deps, { name: "Raw One", internalLmsDomain: "one.raw.test" });
  const two = await makeInstance(deps, {
    name: "Raw Two", internalLmsDomain: "two.raw.test", externalDomains: ["courses.two.test"],
    pullRequestUrl: "https://github.com/o/r/pull/7", pullRequestNumber: 7, pullRequestState: "open",
  });
  await makeAppServer(deps, two.id, { status: "running", publicIp: "10.0.0.7", isActive: true, lastActivatedAt: new Date("2026-01-02T03:04:05.678Z") });
  await makeAppServer(deps, two.id, { status: "failed" });
});

afterAll(async () => {
  await deps.close();
});

describe("raw reads", () => {
  it("return the model's types, in any time zone", async () => {
    const zone = process.env.TZ;
    process.env.TZ = "Pacific/Auckland"; // a timestamp read as local time would be 13 hours off here
    try {
      const user = await deps.db.user.create({ data: { githubLogin: "raw-user", name: "R. User", role: "admin" } });
      expect(await loadSessionUser(deps, user.id)).toEqual({ id: user.id, githubLogin: "raw-user", name: "R. User", avatarUrl: user.avatarUrl, role: "admin" });
      const two = await deps.db.instance.findFirstOrThrow({ where: { name: "Raw Two" }, include: { appServers: { orderBy: { id: "desc" } } } });
      const detail = await getInstance(deps, { id: two.id });
      expect(detail).toMatchObject({
        name: "Raw Two", externalDomains: ["courses.two.test"], pullRequestState: "open", recipe: two.recipe, providerKind: two.providerKind,
        createdAt: two.createdAt, updatedAt: two.updatedAt, appServerTotals: { all: 2, active: 1 },
      });
      expect(detail.appServers.map((a) => [a.status, a.isActive, a.lastActivatedAt, a.createdAt])).toEqual(
        two.appServers.map((a) => [a.status, a.isActive, a.lastActivatedAt, a.createdAt]),
      );
      expect(detail.appServers[1]!.lastActivatedAt).toEqual(new Date("2026-01-02T03:04:05.678Z"));
      // The page's panels, read as JSON in the same statement: timestamps, sizes past 2^32, the order.
      const service = await deps.db.dataService.create({ data: { name: "raw-s3", kind: "s3", settings: { endpoint: "http://s3.raw.test" } } });
      await deps.db.instance.update({ where: { id: two.id }, data: { storageServiceId: service.id } });
      const checkedAt = new Date("2026-03-04T05:06:07.089Z");
      for (const name of ["raw-two-b", "raw-two-a"]) {
        await deps.db.instanceDataResource.create({
          data: { instanceId: two.id, owner: "raw-two", serviceId: service.id, kind: "bucket", name, status: "exists", sizeBytes: 5_000_000_000n, checkedAt },
        });
      }
      const notAfter = new Date("2027-01-01T00:00:00.5Z");
      await deps.db.instanceCertificate.create({ data: { instanceId: two.id, certificatePem: "PEM", issuer: "R3", notAfter, lastAttemptAt: checkedAt } });
      const { panels } = await getInstance(deps, { id: two.id });
      expect(panels.data.find((d) => d.kind === "s3")).toEqual({
        kind: "s3", label: "Storage", service: { name: "raw-s3", location: "http://s3.raw.test" }, lastChecked: checkedAt,
        resources: ["raw-two-a", "raw-two-b"].map((name) => ({ kind: "bucket", name, status: "exists", detail: "", sizeBytes: 5_000_000_000, checkedAt })),
      });
      expect(panels.certificate).toMatchObject({ status: "valid", issuer: "R3", notAfter, lastAttemptAt: checkedAt });
      expect(panels.live).toEqual([{ name: two.appServers[1]!.name, status: "running", isActive: true }, { name: two.appServers[0]!.name, status: "failed", isActive: false }]);
      const list = await listInstances(deps, { q: "two.raw", archived: "exclude", limit: 10 });
      expect(list).toEqual({ rows: [{ id: two.id, name: "Raw Two", internalLmsDomain: "two.raw.test", isArchived: false, activeAppServers: 1, latestStatus: "failed" }], total: 1 });
    } finally {
      process.env.TZ = zone;
    }
  });
});

describe("with DATABASE_PREPARED_STATEMENTS", () => {
  it("the one-object pages read the same as prepared statements, past PostgreSQL's switch to a generic plan", async () => {
    // One connection, so that pg_prepared_statements below is the one the reads went through.
    const prepared = createDb(deps.databaseUrl, { max: 1, preparedStatements: true });
    const zone = process.env.TZ;
    process.env.TZ = "Pacific/Auckland";
    try {
      const two = await deps.db.instance.findFirstOrThrow({ where: { name: "Raw Two" }, include: { appServers: { orderBy: { number: "asc" } } } });
      const first = two.appServers[0]!;
      await deps.db.appServerStep.create({ data: { appServerId: first.id, name: "wait-vm", position: 3, startedAt: new Date("2026-01-02T03:00:00.123Z"), endedAt: new Date("2026-01-02T03:01:00Z"), outcome: "done" } });
      await deps.db.logEntry.createMany({ data: [1, 2, 3].map((seq) => ({ appServerId: first.id, seq, text: `line ${seq} — ü`, createdAt: new Date(`2026-01-02T03:0${seq}:00.5Z`) })) });
      const user = { id: 1, githubLogin: "raw-admin", name: "", avatarUrl: "", role: "admin" as const };
      const now = () => new Date("2026-01-02T04:00:00Z");
      const read = (db: typeof deps.db) => Promise.all([
        getInstance({ db, now }, { id: two.id }),
        getAppServerDetail({ db, now, secrets: deps.secrets }, { instanceId: two.id, number: first.number, user, logTail: 2 }),
      ]);
      const plain = await read(deps.db);
      expect(plain[1]).toMatchObject({ createdAt: first.createdAt, lastActivatedAt: first.lastActivatedAt, logOffset: 0n, instance: { id: two.id, name: "Raw Two" } });
      expect(plain[1].logTail.lines.map((l) => [l.seq, l.text, l.at])).toEqual([[2, "line 2 — ü", "2026-01-02T03:02:00.500Z"], [3, "line 3 — ü", "2026-01-02T03:03:00.500Z"]]);
      // PostgreSQL plans a prepared statement afresh for its first five runs, then may keep a generic plan.
      for (let run = 1; run <= 7; run++) expect(await read(prepared)).toEqual(plain);
      const names = await prepared.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements ORDER BY name`;
      expect(names).toHaveLength(2);
      for (const { name } of names) expect(name).toMatch(/^ocim_[0-9a-f]{20}$/);
      // pg would send a Date in this process's zone (13 hours off here), where Prisma sends UTC.
      await expect(readJson(prepared, Prisma.sql`SELECT ${new Date()}::timestamp AS t`)).rejects.toThrow(/numbers, strings and booleans/);
      expect(await readJson(prepared, Prisma.sql`SELECT ${5}::int AS n, ${"x"}::text AS s`)).toEqual([{ n: 5, s: "x" }]);
    } finally {
      process.env.TZ = zone;
      await prepared.$disconnect();
    }
  });

  it("the lists' first pages are prepared when no parameter changes their plan, planned once (a search's after five runs), and read the same", async () => {
    const prepared = createDb(deps.databaseUrl, { max: 1, preparedStatements: true });
    try {
      await deps.db.auditEvent.createMany({ data: [
        { actorLogin: "raw-admin", action: "instance.updated", subjectType: "Instance", subjectId: "1", subjectName: "Raw One", diff: { name: ["a", "b"] } },
        { actorLogin: "raw-admin", action: "instance.created", subjectType: "Instance", subjectId: "2", subjectName: "Raw Two", createdAt: new Date("2026-01-02T03:04:05.678Z") },
      ] });
      const statements = () => prepared.$queryRaw<{ generic: number; custom: number }[]>`
        SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements ORDER BY name`;
      // One row a page, so that there is a second page.
      const config = { ...deps.config, ADMIN_PAGE_SIZE: 1 };
      const page = (db: typeof deps.db, model: AdminModel, query: Record<string, string>) =>
        loadChangeList({ ...deps, config, db }, model, parseListQuery(model, query)).then((list) => list.rows.map((r) => r.cells));
      const lists: [AdminModel, Record<string, string>[]][] = [
        [instanceAdmin, [{}, { o: "-name" }, { p: "2" }, { q: "raw" }, { q: "ra" }, { archived: "no" }, { q: "two", archived: "no", o: "-name" }]],
        [appServerAdmin, [{ status: "running" }, { status: "failed", active: "no" }, { p: "2" }, { q: "10.0.0" }]],
        [modelBySlug("audit-events"), [{}, { p: "2" }, { action: "instance.created" }, { q: "raw" }]],
      ];
      for (const [model, queries] of lists) {
        for (const query of queries) {
          const plain = await page(deps.db, model, query);
          expect(plain).toHaveLength(1);
          // PostgreSQL plans a prepared statement with parameters afresh for its first five runs, then may keep a generic plan.
          for (let run = 1; run <= 7; run++) expect(await page(prepared, model, query)).toEqual(plain);
        }
      }
      // The console's list, without a search, with one the trigram index serves, and with one too short for it.
      for (const input of [{}, { q: "raw" }, { q: "ra" }]) {
        const plain = await listInstances(deps, { ...input, limit: 1 });
        expect(plain.rows).toHaveLength(1);
        for (let run = 1; run <= 7; run++) expect(await listInstances({ db: prepared }, { ...input, limit: 1, prepare: true })).toEqual(plain);
      }
      // One statement for each first page without parameters (the instances in two orders, the
      // appservers with two filters, the audit trail, the console's list), planned once and its plan
      // kept; one for each first page searched for "raw" (the admin's, the console's), planned with
      // the pattern five times, as PostgreSQL does, then generic. Second pages, the short search, the
      // instances' archived filter and the audit trail's filter and search were not prepared.
      const plans = (await statements()).map((p) => `${p.generic} generic, ${p.custom} custom`).sort();
      expect(plans).toEqual([...Array(2).fill("2 generic, 5 custom"), ...Array(6).fill("7 generic, 0 custom")]);
    } finally {
      await prepared.$disconnect();
    }
  });

  // Debian 12's PgBouncer (1.18) keeps no prepared statements in transaction mode: with one server
  // connection, a second client's Parse of the same name is refused (42P05), a Bind may land where
  // its Parse never did (26000). Pages must still be right, and the operator told once.
  it("behind a pooler that loses them: pages read right, the setting is said to be wrong once, and reads go on without", async () => {
    const bouncer = await startPgBouncer(deps.databaseUrl);
    const logged: { obj: Record<string, unknown>; msg: string }[] = [];
    const pooled = createDb(bouncer.url, { max: 4, preparedStatements: true, log: { error: (obj: Record<string, unknown>, msg: string) => void logged.push({ obj, msg }) } as never });
    try {
      const two = await deps.db.instance.findFirstOrThrow({ where: { name: "Raw Two" } });
      const now = () => new Date("2026-01-02T04:00:00Z");
      const plain = await getInstance({ db: deps.db, now }, { id: two.id });
      // Four reads at once: four client connections through PgBouncer's one server connection.
      const reads = await Promise.all([1, 2, 3, 4].map(() => getInstance({ db: pooled, now }, { id: two.id })));
      for (const read of reads) expect(read).toEqual(plain);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.msg).toBe("db.prepared_statements.lost");
      expect(logged[0]!.obj).toMatchObject({ err: { code: expect.stringMatching(/^(42P05|26000)$/) }, detail: PREPARED_STATEMENTS_LOST });
      expect(PREPARED_STATEMENTS_LOST).toMatch(/turn DATABASE_PREPARED_STATEMENTS off/);
      for (let run = 1; run <= 3; run++) expect(await getInstance({ db: pooled, now }, { id: two.id })).toEqual(plain);
      expect(logged).toHaveLength(1);
    } finally {
      await pooled.$disconnect();
      await bouncer.stop();
    }
  });
});

/**
 * A TCP proxy to the test PostgreSQL that can stop passing the server's bytes on: a host that froze,
 * or a managed database failing over, with the connections already open.
 */
async function freezableProxy(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let asked = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {}).on("close", () => sockets.delete(s));
    }
    client.on("data", (chunk) => (frozen ? asked++ : upstream.write(chunk)));
    upstream.on("data", (chunk) => frozen || client.write(chunk));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: url.toString(),
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    /** Messages the client sent while frozen (nothing reached the server). */
    asked: () => asked,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the pool's client", () => {
  it("answers every form of pg's query, and a statement PostgreSQL refuses as pg does", async () => {
    const Client = clientCalledBack(10_000);
    const client = new Client({ connectionString: deps.databaseUrl });
    await client.connect();
    const calledBack = (run: (done: (err: Error | null, res?: { rows: unknown[] }) => void) => void) =>
      new Promise<unknown[]>((resolve, reject) => run((err, res) => (err ? reject(err) : resolve(res!.rows))));
    try {
      expect((await client.query("SELECT 1 AS n")).rows).toEqual([{ n: 1 }]);
      expect((await client.query("SELECT $1::int AS n", [2])).rows).toEqual([{ n: 2 }]);
      expect((await client.query({ text: "SELECT $1::int AS n", values: [3] })).rows).toEqual([{ n: 3 }]);
      expect(await calledBack((done) => client.query("SELECT $1::int AS n", [4], done))).toEqual([{ n: 4 }]);
      expect(await calledBack((done) => client.query({ text: "SELECT 5 AS n" }, done))).toEqual([{ n: 5 }]);
      expect(await calledBack((done) => client.query({ text: "SELECT 6 AS n", callback: done } as never))).toEqual([{ n: 6 }]);
      await expect(client.query("SELECT nope")).rejects.toMatchObject({ code: "42703" });
      await expect(calledBack((done) => client.query("SELECT nope", [], done))).rejects.toMatchObject({ code: "42703" });
      expect((await client.query("SELECT 7 AS n")).rows).toEqual([{ n: 7 }]);
    } finally {
      await client.end();
    }
  });
});

describe("a server that stops answering after connecting", () => {
  // The deadline is the statement timeout + the connect timeout, 250 ms here. It was pg's
  // query_timeout; it is Ocim's own now (clientCalledBack in db.ts), and a page still gets the 503.
  it("fails each read as unreachable at the read deadline, and the pool reads again once it answers", async () => {
    const proxy = await freezableProxy(deps.databaseUrl);
    const logged: string[] = [];
    const db = createDb(proxy.url, { max: 2, statementTimeoutMs: 150, connectTimeoutMs: 100, log: { error: (_obj: unknown, msg: string) => void logged.push(msg) } as never });
    const names = () => readJson<{ name: string }>(db, Prisma.sql`SELECT name FROM "Instance" WHERE name LIKE 'Raw %' ORDER BY name`);
    try {
      expect(await names()).toEqual([{ name: "Raw One" }, { name: "Raw Two" }]);
      proxy.freeze();
      const started = Date.now();
      const failures = await Promise.all([
        names().then(() => null, (err: unknown) => err),
        db.instance.count().then(() => null, (err: unknown) => err),
        // A transaction holds its connection: its statements (pg's promise form) have the deadline too.
        db.$transaction(async (tx) => tx.instance.count()).then(() => null, (err: unknown) => err),
      ]);
      const waited = Date.now() - started;
      for (const err of failures) {
        expect(err).not.toBeNull();
        expect(isDatabaseUnreachable(err)).toBe(true);
      }
      expect(proxy.asked()).toBeGreaterThan(0);
      expect(waited).toBeGreaterThanOrEqual(240);
      expect(logged).toContain("db.read_deadline");
      proxy.thaw();
      expect(await names()).toEqual([{ name: "Raw One" }, { name: "Raw Two" }]);
      expect(await db.instance.count({ where: { name: { startsWith: "Raw " } } })).toBe(2);
    } finally {
      await db.$disconnect();
      await proxy.stop();
    }
  });
});

describe("instance totals", () => {
  it("follow every kind of write, in the admin's and the console's lists", async () => {
    const counted = async () => {
      const [row] = await deps.db.$queryRaw<{ total: number; archived: number }[]>`
        SELECT count(*)::int AS total, (count(*) FILTER (WHERE "isArchived"))::int AS archived FROM "Instance"`;
      return row!;
    };
    const shown = async () => ({
      total: (await loadChangeList(deps, instanceAdmin, parseListQuery(instanceAdmin, {}))).total,
      archived: (await listInstances(deps, { archived: "only", limit: 1 })).total,
      live: (await listInstances(deps, { archived: "exclude", limit: 1 })).total,
    });
    const expectAgreement = async () => {
      const c = await counted();
      expect(await shown()).toEqual({ total: c.total, archived: c.archived, live: c.total - c.archived });
      return c;
    };

    const before = await expectAgreement();
    // One statement inserting many (a seed), archiving some, an update that archives nothing.
    await deps.db.$executeRaw`
      INSERT INTO "Instance" (name, slug, "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain", "discoveryDomain", "appsDomain",
        "edxPlatformRepoUrl", "edxPlatformBranch", "configurationRepoUrl", "configurationBranch", "playbookPath", "openedxRelease", "secretKeyEncrypted", "isArchived", "updatedAt")
      SELECT 'Bulk ' || n, 'bulk-' || n, 'bulk-' || n || '.count.test', 'studio.bulk-' || n || '.count.test', 'preview.bulk-' || n || '.count.test',
        'ecommerce.bulk-' || n || '.count.test', 'discovery.bulk-' || n || '.count.test', 'apps.bulk-' || n || '.count.test',
        'https://x.test/e.git', 'master', 'https://x.test/c.git', 'master', 'p.yml', 'master', 'sealed', n % 3 = 0, now()
      FROM generate_series(1, 30) n`;
    expect(await expectAgreement()).toEqual({ total: before.total + 30, archived: before.archived + 10 });
    await deps.db.instance.updateMany({ where: { name: { startsWith: "Bulk " } }, data: { isArchived: true } });
    await deps.db.instance.updateMany({ where: { name: { startsWith: "Bulk " } }, data: { appserverCount: 2 } });
    expect(await expectAgreement()).toEqual({ total: before.total + 30, archived: before.archived + 30 });
    await deps.db.instance.deleteMany({ where: { name: { in: ["Bulk 1", "Bulk 2"] } } });
    expect(await expectAgreement()).toEqual({ total: before.total + 28, archived: before.archived + 28 });
    // Rolled back with the transaction that wrote it.
    await deps.db.$transaction(async (tx) => {
      await tx.instance.deleteMany({ where: { name: { startsWith: "Bulk " } } });
      throw new Error("changed my mind");
    }).catch(() => undefined);
    await expectAgreement();
    await deps.db.$executeRaw`TRUNCATE "Instance" CASCADE`;
    expect(await expectAgreement()).toEqual({ total: 0, archived: 0 });
  });
});
