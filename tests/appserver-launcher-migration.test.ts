// The migration that keeps who launched an appserver as a login (AppServer.createdByLogin): the
// existing appservers get their launcher's login from the user, or from the launch's audit event
// when the user is gone or Ocim launched it (a real PostgreSQL database migrated up to the migration
// before, rows in the old shape, then the migration itself).
import { describe, expect, it } from "vitest";
import { useDatabaseBefore } from "./helpers/migration-db.js";

const MIGRATION = "20261202130000_appserver_created_by_login";

describe(`migration ${MIGRATION}`, () => {
  const database = useDatabaseBefore(MIGRATION);

  it("fills in the login of each appserver's launcher: the user's, else the launch's audit event's, else empty", async () => {
    const m = database();
    const client = m.client;
    await client.query("SET session_replication_role = replica");
    await client.query(`INSERT INTO "User" (id, "githubLogin", "updatedAt") VALUES (7, 'olive', now())`);
    // 1: launched by olive, still a user. 2: launched by a user since deleted (createdById NULL).
    // 3: launched by Ocim. 4: nothing says who (an event of another appserver of the instance only).
    for (const [id, createdById] of [[1, 7], [2, null], [3, null], [4, null]] as const) {
      await client.query(
        `INSERT INTO "AppServer" (id, "instanceId", number, name, "providerKind", "configSnapshot", "createdById", "updatedAt")
         VALUES ($1, 10, $1, $2, 'local', '{}', $3, now())`,
        [id, `AppServer ${id}`, createdById],
      );
    }
    const launch = (actor: string, instanceId: number, appServerId: number) => client.query(
      `INSERT INTO "AuditEvent" ("actorLogin", action, "subjectType", "subjectId", "subjectName", diff)
       VALUES ($1, 'appserver.launched', 'Instance', $2, 'Site', $3)`,
      [actor, String(instanceId), JSON.stringify({ appServer: [null, `AppServer ${appServerId}`], appServerId: [null, appServerId] })],
    );
    await launch("olive", 10, 1);
    await launch("pat", 10, 2);
    await launch("ocim", 10, 3);
    await launch("someone", 11, 4); // the same id, another instance: not this appserver's launch
    await client.query("SET session_replication_role = DEFAULT");

    await m.apply(MIGRATION);

    const rows = await client.query(`SELECT id, "createdByLogin" FROM "AppServer" ORDER BY id`);
    expect(rows.rows).toEqual([
      { id: 1, createdByLogin: "olive" },
      { id: 2, createdByLogin: "pat" },
      { id: 3, createdByLogin: "ocim" },
      { id: 4, createdByLogin: "" },
    ]);
  });
});
