// The database client keeps statements prepared per connection (DATABASE_PREPARED_STATEMENTS),
// checked in PostgreSQL's own view of the session's prepared statements.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../src/db.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";

let deps: TestDeps;
const opened: Db[] = [];

beforeAll(async () => {
  deps = await createTestDeps();
  await makeInstance(deps, { name: "Prepared One", internalLmsDomain: "one.prepared.test" });
  await makeInstance(deps, { name: "Prepared Two", internalLmsDomain: "two.prepared.test" });
});

afterAll(async () => {
  await Promise.all(opened.map((db) => db.$disconnect()));
  await deps.close();
});

/** A client on one connection, so the session that prepares is the one asked about. */
function oneConnection(prepared: number): Db {
  const db = createDb(deps.databaseUrl, 1, prepared);
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
