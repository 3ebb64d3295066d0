// The migration that replaced AppServer.stepCursor with recorded steps: appservers provisioning
// during the upgrade get the step they were in, so the resumed job starts there (a real PostgreSQL
// database migrated up to the migration before, rows in the old shape, then the migration itself).
import { afterAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../src/db.js";
import { currentStep } from "../src/domain/provisioning/steps.js";
import { useDatabaseBefore } from "./helpers/migration-db.js";

const STEPS_MIGRATION = "20261201000200_appserver_steps";

describe("migration 20261201000200_appserver_steps", () => {
  const database = useDatabaseBefore(STEPS_MIGRATION);
  let db: Db;
  afterAll(async () => db?.$disconnect());

  it("gives each provisioning appserver its current step, started at its last status change", async () => {
    const m = database();
    const client = m.client;
    // Rows as the old code left them; the instance they belong to does not matter here.
    await client.query("SET session_replication_role = replica");
    const rows: [number, string, string | null, string][] = [
      [1, "new", null, ""],
      [2, "waiting", null, ""],
      [3, "waiting", "vm-3", ""],
      [4, "configuring", "vm-4", ""],
      [5, "configuring", "vm-5", "playbook-started"],
      [6, "running", "vm-6", "playbook-started"],
    ];
    for (const [id, status, vm, cursor] of rows) {
      await client.query(
        `INSERT INTO "AppServer" ("id", "instanceId", "number", "name", "status", "providerKind", "providerServerId", "configSnapshot", "stepCursor", "updatedAt", "statusChangedAt")
         VALUES ($1, 1, $1, $2, $3, 'local', $4, '{}', $5, now(), $6)`,
        [id, `AppServer ${id}`, status, vm, cursor, new Date(Date.UTC(2026, 10, 30, 12, id))],
      );
    }
    await client.query("SET session_replication_role = DEFAULT");
    await m.apply(STEPS_MIGRATION);

    const steps = await client.query(`SELECT "appServerId", "name", "position", "startedAt", "endedAt" FROM "AppServerStep" ORDER BY "appServerId"`);
    expect(steps.rows).toEqual([
      { appServerId: 2, name: "create-vm", position: 1, startedAt: new Date(Date.UTC(2026, 10, 30, 12, 2)), endedAt: null },
      { appServerId: 3, name: "wait-vm", position: 2, startedAt: new Date(Date.UTC(2026, 10, 30, 12, 3)), endedAt: null },
      { appServerId: 4, name: "upload-vars", position: 3, startedAt: new Date(Date.UTC(2026, 10, 30, 12, 4)), endedAt: null },
      { appServerId: 5, name: "tail", position: 6, startedAt: new Date(Date.UTC(2026, 10, 30, 12, 5)), endedAt: null },
    ]);
    const column = await client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'AppServer' AND column_name = 'stepCursor'`);
    expect(column.rowCount).toBe(0);

    // The later migrations, prepare-data's among them, move every step one position down.
    for (const f of m.later(STEPS_MIGRATION)) await m.apply(f);
    const moved = await client.query(`SELECT "appServerId", "position" FROM "AppServerStep" ORDER BY "appServerId"`);
    expect(moved.rows).toEqual([{ appServerId: 2, position: 2 }, { appServerId: 3, position: 3 }, { appServerId: 4, position: 4 }, { appServerId: 5, position: 7 }]);

    // What the resumed job runs first, read by the job's own rule.
    db = createDb(m.url, { max: 2 });
    const first = async (id: number) => (await currentStep({ db }, id))?.name;
    expect(await Promise.all([1, 2, 3, 4, 5].map(first))).toEqual(["prepare-data", "create-vm", "wait-vm", "upload-vars", "tail"]);
    expect((await currentStep({ db }, 5))?.started).toBe(true);
  });
});
