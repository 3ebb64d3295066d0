// The database client: statements kept prepared per connection (DATABASE_PREPARED_STATEMENTS),
// checked in PostgreSQL's own view of the session's prepared statements; and queryRows(), the
// hot pages' raw queries read with pg, against the same queries through Prisma's $queryRaw.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, queryRows, type Db } from "../src/db.js";
import { Prisma } from "../src/generated/prisma/client.ts";
import { loadSessionUser } from "../src/domain/auth/session-user.js";
import { getInstance } from "../src/domain/instances/get-instance.js";
import { listInstances } from "../src/domain/instances/list-instances.js";
import { instanceAdmin } from "../src/web/admin/models/instances.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";

let deps: TestDeps;
const opened: Db[] = [];

beforeAll(async () => {
  deps = await createTestDeps();
  await makeInstance(deps, { name: "Prepared One", internalLmsDomain: "one.prepared.test" });
  const two = await makeInstance(deps, {
    name: "Prepared Two", internalLmsDomain: "two.prepared.test", externalDomains: ["courses.two.test"],
    pullRequestUrl: "https://github.com/o/r/pull/7", pullRequestNumber: 7, pullRequestState: "open",
  });
  await makeAppServer(deps, two.id, { status: "running", publicIp: "10.0.0.7", isActive: true, lastActivatedAt: new Date("2026-01-02T03:04:05.678Z") });
  await makeAppServer(deps, two.id, { status: "failed" });
});

afterAll(async () => {
  await Promise.all(opened.map((db) => db.$disconnect()));
  await deps.close();
});

/** A client on one connection, so the session that prepares is the one asked about. */
function oneConnection(prepared: number): Db {
  const db = createDb(deps.databaseUrl, { max: 1, preparedPerConnection: prepared });
  opened.push(db);
  return db;
}

async function preparedTexts(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ statement: string }[]>`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`;
  return rows.map((r) => r.statement);
}

// Four different statements, each run twice; the answers must not depend on preparing.
async function workload(db: Db) {
  const results = [];
  for (let round = 0; round < 2; round++) {
    results.push(
      await db.instance.findMany({ select: { name: true, createdAt: true }, orderBy: { id: "asc" } }),
      await db.instance.count({ where: { isArchived: false } }),
      await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "Instance" WHERE name LIKE ${"Prepared%"}`,
      await db.instance.findFirst({ where: { internalLmsDomain: "two.prepared.test" }, select: { name: true } }),
    );
  }
  return results;
}

describe("prepared statements", () => {
  it("prepares each statement once per connection, with the same answers as unnamed queries", async () => {
    const unnamed = oneConnection(0);
    const prepared = oneConnection(100);
    const expected = await workload(unnamed);
    expect(await workload(prepared)).toEqual(expected);
    expect(expected[0]).toEqual([
      { name: "Prepared One", createdAt: expect.any(Date) },
      { name: "Prepared Two", createdAt: expect.any(Date) },
    ]);
    expect(expected.slice(1, 4)).toEqual([2, [{ n: 2 }], { name: "Prepared Two" }]);

    expect(await preparedTexts(unnamed)).toEqual([]);
    const texts = await preparedTexts(prepared);
    // The four statements, once each (the second round reused them), and this question itself.
    expect(texts).toHaveLength(5);
    expect(texts.filter((t) => t.includes('"Instance"'))).toHaveLength(4);
    expect(texts.at(-1)).toContain("pg_prepared_statements");
  });

  it("stops preparing new statements at the cap, and still answers them", async () => {
    const capped = oneConnection(2);
    const expected = await workload(oneConnection(0));
    expect(await workload(capped)).toEqual(expected);
    expect(await preparedTexts(capped)).toHaveLength(2);
  });

  it("keeps working on a connection whose transaction failed", async () => {
    const db = oneConnection(100);
    await expect(
      db.$transaction(async (tx) => {
        await tx.instance.count();
        await tx.$executeRaw`SELECT 1/0`;
      }),
    ).rejects.toThrow(/division by zero/);
    expect(await db.instance.count()).toBe(2);
  });
});

describe("queryRows", () => {
  // Through a transaction client the same functions fall back to $queryRaw: the reference.
  const viaPrisma = <T>(fn: (db: Db) => Promise<T>) => deps.db.$transaction((tx) => fn(tx as Db));

  it("returns what $queryRaw returns for the pages' queries, in any time zone", async () => {
    const zone = process.env.TZ;
    process.env.TZ = "Pacific/Auckland"; // pg's own timestamp parser would read UTC as local time here
    try {
      const user = await deps.db.user.create({ data: { githubLogin: "prepared-user", name: "P. User", role: "admin" } });
      const two = (await deps.db.instance.findFirstOrThrow({ where: { name: "Prepared Two" } })).id;
      const calls: ((db: Db) => Promise<unknown>)[] = [
        (db) => loadSessionUser({ db }, user.id),
        (db) => getInstance({ db }, { id: two }),
        (db) => listInstances({ db }, { q: "", archived: "exclude", limit: 10 }),
        (db) => listInstances({ db }, { q: "two", archived: "exclude", limit: 10 }),
        (db) => instanceAdmin.list.page!(db, { filters: { pr: "yes" }, q: "", sortField: "updatedAt", direction: "desc", skip: 0, take: 10 }),
      ];
      for (const call of calls) expect(await call(deps.db)).toEqual(await viaPrisma(call));

      const detail = await getInstance(deps, { id: two });
      expect(detail.appServers.map((a) => a.lastActivatedAt)).toEqual([null, new Date("2026-01-02T03:04:05.678Z")]);
      expect(detail.externalDomains).toEqual(["courses.two.test"]);
      expect(detail.pullRequestState).toBe("open");
    } finally {
      process.env.TZ = zone;
    }
  });

  it("passes a Date as the UTC time it stands for", async () => {
    const at = new Date("2026-01-02T03:04:05.678Z");
    const sql = Prisma.sql`SELECT count(*)::int AS n FROM "AppServer" WHERE "lastActivatedAt" = ${at}`;
    expect(await queryRows(deps.db, sql)).toEqual([{ n: 1 }]);
    expect(await deps.db.$queryRaw(sql)).toEqual([{ n: 1 }]);
  });
});

describe("instance totals kept by triggers", () => {
  it("follow every kind of write, and are what the lists show", async () => {
    const counted = async () => {
      const [row] = await deps.db.$queryRaw<{ total: number; archived: number }[]>`
        SELECT count(*)::int AS total, (count(*) FILTER (WHERE "isArchived"))::int AS archived FROM "Instance"`;
      return row!;
    };
    const shown = async () => ({
      total: (await instanceAdmin.list.page!(deps.db, { filters: {}, q: "", sortField: "name", direction: "asc", skip: 0, take: 1 })).total,
      archived: (await listInstances(deps, { archived: "only", limit: 1 })).total,
      live: (await listInstances(deps, { archived: "exclude", limit: 1 })).total,
    });
    const expectAgreement = async () => {
      const c = await counted();
      expect(await shown()).toEqual({ total: c.total, archived: c.archived, live: c.total - c.archived });
      expect(await deps.db.instanceCount.findUniqueOrThrow({ where: { id: 1 } })).toMatchObject(c);
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
