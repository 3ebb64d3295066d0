// Deleting an instance with its data in mind (issue 12, point 5), through the real admin pages: the
// plan of what the instance has on a real MariaDB and on the MongoDB wire server, the default delete
// that keeps it (listed under Kept data, its slug never reused), and "delete the data too" behind the
// typed slug, which drops everything or deletes nothing.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { createConnection, type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDataAdapter } from "../src/adapters/data/factory.js";
import type { DataServiceKind } from "../src/adapters/data/port.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { recordDataResources } from "../src/domain/data/record-resources.js";
import { inspectOwnerData } from "../src/domain/data/inspect-owner-data.js";
import { createInstance } from "../src/domain/instances/create-instance.js";
import { freePort } from "../src/embedded/processes.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";
import { startMongoWireServer, type MongoWireServer } from "./helpers/mongo-wire-server.js";

const MONGO_ADMIN = { user: "ocim-admin", password: "mongo-admin-pass-77c1" };

describe("deleting an instance with its data in mind", () => {
  let t: TestApp;
  let admin: Agent;
  let mariadb: MariadbServer;
  let mongo: MongoWireServer;
  let sql: Connection;
  let clock = Date.parse("2026-12-01T03:00:00Z");

  beforeAll(async () => {
    mariadb = await startMariadbServer();
    sql = await createConnection({ host: mariadb.host, port: mariadb.port, user: mariadb.username, password: mariadb.password });
    t = await startTestApp({}, { now: () => new Date(clock) });
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(async () => {
    await sql?.end();
    await t?.close();
    await mongo?.close();
    await mariadb?.stop();
  });
  beforeEach(async () => {
    // A fresh MongoDB per test; on MariaDB, what the last test made is dropped.
    await mongo?.close();
    mongo = await startMongoWireServer({ admin: MONGO_ADMIN });
    const made = (await sql.query<RowDataPacket[]>("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'acme%' OR SCHEMA_NAME LIKE 'other%'"))[0];
    for (const { name } of made) await sql.query(`DROP DATABASE \`${String(name)}\``);
    for (const user of await mysqlUsers()) if (/^(acme|other)/.test(user)) await sql.query("DROP USER ?@'%'", [user]);
    await t.deps.db.instanceDataResource.deleteMany();
    await t.deps.db.appServer.deleteMany();
    await t.deps.db.instance.deleteMany();
    await t.deps.db.dataService.deleteMany();
    await t.deps.db.auditEvent.deleteMany();
  });

  const service = (name: string, kind: DataServiceKind, settings: Record<string, unknown>, credentials: Record<string, unknown>) =>
    t.deps.db.dataService.create({ data: { name, kind, settings: settings as object, credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify(credentials)) } });
  const mysqlService = () => service("MySQL main", "mysql", { host: mariadb.host, port: mariadb.port }, { username: mariadb.username, password: mariadb.password });
  const mongoService = () => service("Mongo main", "mongodb", { host: mongo.host, port: mongo.port, connectTimeoutSeconds: 5 }, { username: MONGO_ADMIN.user, password: MONGO_ADMIN.password });

  /** What d5's "prepare-data" step does before a launch: ensure() on the service, then the rows. */
  async function provision(instance: Awaited<ReturnType<typeof makeInstance>>, svc: Awaited<ReturnType<typeof service>>) {
    const adapter = createDataAdapter(svc.kind, svc.settings, JSON.parse(t.deps.secrets.decrypt(svc.credentialsEncrypted)));
    const states = await adapter.ensure(instanceDataPlan(t.deps.secrets, instance, []));
    await recordDataResources(t.deps, instance.id, instance.slug, svc.id, states);
  }

  const databases = async (prefix: string) =>
    ((await sql.query<RowDataPacket[]>("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1", [`${prefix}\\_%`]))[0]).map((r) => String(r.name));
  const mysqlUsers = async () => ((await sql.query<RowDataPacket[]>("SELECT User AS name FROM mysql.user WHERE Host = '%' ORDER BY 1"))[0]).map((r) => String(r.name));

  /** "acme" on both services, with a table of 200 rows in its edxapp database so it has a size. */
  async function acme(slug = "acme") {
    const instance = await makeInstance(t.deps, { name: "Acme", slug });
    const [mysql, mongodb] = [await mysqlService(), await mongoService()];
    await provision(instance, mysql);
    await provision(instance, mongodb);
    await sql.query(`CREATE TABLE \`${slug}_edxapp\`.courses (id INT PRIMARY KEY, title VARCHAR(200))`);
    await sql.query(`INSERT INTO \`${slug}_edxapp\`.courses VALUES ${Array.from({ length: 200 }, (_, i) => `(${i}, 'Course ${i} ${"x".repeat(100)}')`).join(",")}`);
    return { instance, mysql, mongodb };
  }

  it("shows the plan: per service where it is, each database, user and bucket with its status and size, and that the data is kept by default", async () => {
    const { instance } = await acme();
    const page = await admin.get(`/admin/instances/${instance.id}/delete`);
    expect(page.status).toBe(200);
    const text = visibleText(page.text);
    expect(text).toContain(`MySQL main (mysql, ${mariadb.host}:${mariadb.port})`);
    expect(text).toContain(`Mongo main (mongodb, ${mongo.host}:${mongo.port})`);
    expect(text).toContain("By default this data is KEPT");
    // The table of 200 rows makes a real size, as MariaDB reports it; an empty database is 0 B.
    const [[measured]] = await sql.query<RowDataPacket[]>("SELECT SUM(DATA_LENGTH + INDEX_LENGTH) AS size FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'acme_edxapp'");
    const size = measured?.size;
    expect(Number(size)).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`database acme_edxapp exists ${(Number(size) / 1024).toFixed(1)} KiB`));
    expect(text).toContain("database acme_ecommerce exists 0 B");
    expect(text).toMatch(/user acme_[0-9a-f]{6}_edxapp exists/);
    expect(text).toMatch(/database acme_forum exists \d/);
    expect(text).toContain('Type the slug "acme" to confirm');
    for (const secret of [mariadb.password, MONGO_ADMIN.password, ...instanceDataPlan(t.deps.secrets, instance, []).mysql.users.map((u) => u.password)]) {
      expect(page.text).not.toContain(secret);
    }
  });

  it("keeps the data by default: the databases stay on MariaDB, the message and the audit say where, Kept data lists them, and the slug is not reused", async () => {
    const { instance } = await acme();
    clock = Date.parse("2026-12-01T03:10:00Z");
    const done = await admin.submit(`/admin/instances/${instance.id}/delete`, {}, `/admin/instances/${instance.id}/delete`);
    expect(done.url).toBe(`${t.url}/admin/instances`);
    const message = visibleText(done.text);
    expect(message).toContain('Deleted 1 instance. The data of Acme was kept (owner "acme"): Mongo main: acme_edxapp, acme_forum, acme_');
    expect(message).toContain("; MySQL main: acme_credentials, acme_discovery,");
    expect(message).toContain("It is listed under Admin › Kept data.");
    expect(await t.deps.db.instance.count()).toBe(0);
    expect(await databases("acme")).toHaveLength(7);
    expect(await mysqlUsers()).toEqual(expect.arrayContaining([expect.stringMatching(/^acme_[0-9a-f]{6}_edxapp$/)]));
    const rows = await t.deps.db.instanceDataResource.findMany();
    expect(rows.length).toBe(7 + 6 + 2 + 2);
    expect(rows.every((r) => r.instanceId === null && r.owner === "acme" && r.keptSince?.toISOString() === "2026-12-01T03:10:00.000Z")).toBe(true);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.deleted" } });
    expect(JSON.stringify(audit.diff)).toContain('kept under \\"acme\\": Mongo main: acme_edxapp, acme_forum');

    const list = visibleText((await admin.get("/admin/kept-data?q=acme_edxapp")).text);
    expect(list).toContain("acme MySQL main (mysql) database acme_edxapp");
    expect(list).toContain("2026-12-01 03:10 UTC");

    // A new instance of the same name must not take that data over: it gets another slug.
    const again = await createInstance(t.deps, { actor: { id: null, login: "test" }, values: { name: "Acme", internalLmsDomain: "lms.acme2.example.com" } });
    expect(again.slug).toBe("acme-2");
    const refused = await createInstance(t.deps, { actor: { id: null, login: "test" }, values: { name: "Acme", slug: "acme", internalLmsDomain: "lms.acme3.example.com" } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "validation", details: { fields: { slug: expect.stringContaining("owns the kept data of a deleted instance") } } });
  });

  it("refuses a wrongly typed slug next to the field, and deletes nothing", async () => {
    const { instance } = await acme();
    for (const typed of ["", "Acme", "acme "]) {
      const page = await admin.submit(`/admin/instances/${instance.id}/delete-data`, { confirmation: typed }, `/admin/instances/${instance.id}/delete`);
      expect(page.status).toBe(400);
      expect(fieldError(page.text, "confirmation")).toBe('Type the instance\'s slug "acme" exactly to drop its data; nothing was deleted.');
    }
    expect(await t.deps.db.instance.count()).toBe(1);
    expect(await databases("acme")).toHaveLength(7);
    expect(await t.deps.db.instanceDataResource.count({ where: { instanceId: instance.id, status: "exists" } })).toBe(17);
    expect(await t.deps.db.auditEvent.count()).toBe(0);
  });

  it("deletes the data too: drops the databases and users on MariaDB and MongoDB, then the instance and its rows, audited by name", async () => {
    const { instance } = await acme();
    const other = await makeInstance(t.deps, { name: "Other", slug: "other" });
    await provision(other, await t.deps.db.dataService.findFirstOrThrow({ where: { kind: "mysql" } }));
    const plan = instanceDataPlan(t.deps.secrets, instance, []);
    const done = await admin.submit(`/admin/instances/${instance.id}/delete-data`, { confirmation: "acme" }, `/admin/instances/${instance.id}/delete`);
    expect(done.url).toBe(`${t.url}/admin/instances`);
    expect(visibleText(done.text)).toContain("Deleted instance Acme and its data: 17 databases, users and buckets dropped.");
    expect(await databases("acme")).toEqual([]);
    expect((await mysqlUsers()).filter((u) => u.startsWith("acme_"))).toEqual([]);
    expect([...mongo.databases.keys()].filter((d) => d.startsWith("acme_"))).toEqual([]);
    expect(Object.keys(mongo.users()).filter((u) => u.includes("acme_"))).toEqual([]);
    expect(await t.deps.db.instance.findMany({ select: { slug: true } })).toEqual([{ slug: "other" }]);
    expect(await t.deps.db.instanceDataResource.count({ where: { owner: "acme" } })).toBe(0);
    // The other instance's data is untouched.
    expect(await databases("other")).toHaveLength(7);
    const dropped = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.data.dropped" } });
    const diff = JSON.stringify(dropped.diff);
    expect(diff).toContain("MySQL main: database acme_edxapp (dropped)");
    expect(diff).toContain("Mongo main: user");
    for (const u of [...plan.mysql.users, ...plan.mongodb.users]) expect(diff).not.toContain(u.password);
    expect(await t.deps.db.auditEvent.count({ where: { action: "instance.deleted", subjectName: "Acme" } })).toBe(1);
  });

  it("keeps everything when a service cannot be reached: nothing dropped, nothing deleted, the page says which service and why", async () => {
    const { instance } = await acme();
    const port = await freePort();
    const gone = await service("MySQL old", "mysql", { host: "127.0.0.1", port, connectTimeoutSeconds: 2 }, { username: "root", password: "old-admin-pass" });
    await recordDataResources(t.deps, instance.id, "acme", gone.id, [{ kind: "database", name: "acme_legacy", status: "exists", sizeBytes: 4096 }]);
    const before = await t.deps.db.instanceDataResource.findMany({ orderBy: { id: "asc" } });
    // The plan still renders, with the error next to that service and the others' live answers.
    const plan = await admin.get(`/admin/instances/${instance.id}/delete`);
    expect(plan.status).toBe(200);
    expect(visibleText(plan.text)).toMatch(/MySQL old \(mysql, 127\.0\.0\.1:\d+\) Could not ask this service: .*connection refused\) \(showing what was last recorded\) Kind Name Status Size database acme_legacy exists 4\.0 KiB/);
    expect(visibleText(plan.text)).toMatch(/database acme_edxapp exists \d+\.\d KiB/);
    const page = await admin.submit(`/admin/instances/${instance.id}/delete-data`, { confirmation: "acme" }, `/admin/instances/${instance.id}/delete`);
    expect(page.status).toBe(503);
    const text = visibleText(page.text);
    expect(text).toContain("A service could not be reached: nothing was dropped and nothing was deleted.");
    expect(text).toContain(`MySQL old (mysql, 127.0.0.1:${port}) Could not ask this service: MySQL at 127.0.0.1:${port}: could not list the databases and users of acme: nothing accepts connections there (connection refused)`);
    expect(page.text).not.toContain("old-admin-pass");
    expect(await t.deps.db.instance.count()).toBe(1);
    expect(await databases("acme")).toHaveLength(7);
    expect(mongo.databases.has("acme_forum")).toBe(true);
    expect(await t.deps.db.instanceDataResource.findMany({ orderBy: { id: "asc" } })).toEqual(before);
  });

  it("keeps the instance when a service refuses a drop, and shows which resource failed and why", async () => {
    const { instance, mysql } = await acme();
    // An administrator who may look but not drop: the check passes, the drop is refused by MariaDB.
    await sql.query("CREATE USER 'looker'@'%' IDENTIFIED BY 'looker-pass-31'");
    await sql.query("GRANT SELECT, SHOW DATABASES ON *.* TO 'looker'@'%'");
    await t.deps.db.dataService.update({ where: { id: mysql.id }, data: { credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify({ username: "looker", password: "looker-pass-31" })) } });
    const page = await admin.submit(`/admin/instances/${instance.id}/delete-data`, { confirmation: "acme" }, `/admin/instances/${instance.id}/delete`);
    expect(page.status).toBe(503);
    const text = visibleText(page.text);
    expect(text).toContain("A service refused: some data could not be dropped, so the instance was not deleted.");
    expect(text).toMatch(/database acme_edxapp error MySQL at [^ ]+: could not drop user acme_[0-9a-f]{6}_\w+: the administrator 'looker' lacks a privilege/);
    expect(await t.deps.db.instance.count()).toBe(1);
    expect(await databases("acme")).toHaveLength(7);
    expect(await t.deps.db.instanceDataResource.count({ where: { instanceId: instance.id, status: "error" } })).toBe(13);
    expect(await t.deps.db.auditEvent.count({ where: { action: "instance.data.drop_failed" } })).toBe(1);
    await sql.query("DROP USER 'looker'@'%'");
  });

  it("drops kept data from the Kept data page behind the typed owner, which frees the slug", async () => {
    const { instance } = await acme();
    await admin.submit(`/admin/instances/${instance.id}/delete`, {}, `/admin/instances/${instance.id}/delete`);
    const page = await admin.get("/admin/kept-data/owner/acme");
    expect(visibleText(page.text)).toMatch(/database acme_edxapp exists \d+\.\d KiB/);
    const wrong = await admin.submit("/admin/kept-data/owner/acme/drop", { confirmation: "ACME" }, "/admin/kept-data/owner/acme");
    expect(wrong.status).toBe(400);
    expect(fieldError(wrong.text, "confirmation")).toBe('Type the owner "acme" exactly to drop its data; nothing was deleted.');
    expect(await databases("acme")).toHaveLength(7);
    const done = await admin.submit("/admin/kept-data/owner/acme/drop", { confirmation: "acme" }, "/admin/kept-data/owner/acme");
    expect(done.url).toBe(`${t.url}/admin/kept-data`);
    expect(visibleText(done.text)).toContain("Dropped the kept data of acme: 17 databases, users and buckets.");
    expect(await databases("acme")).toEqual([]);
    expect(await t.deps.db.instanceDataResource.count()).toBe(0);
    expect(await t.deps.db.auditEvent.count({ where: { action: "kept_data.dropped", subjectId: "acme" } })).toBe(1);
    const fresh = await createInstance(t.deps, { actor: { id: null, login: "test" }, values: { name: "Acme", internalLmsDomain: "lms.acme4.example.com" } });
    expect(fresh.slug).toBe("acme");
  });

  it("refuses live appservers before dropping anything, and operators on every data action", async () => {
    const { instance } = await acme();
    await makeAppServer(t.deps, instance.id, { status: "running" });
    const refused = await admin.submit(`/admin/instances/${instance.id}/delete-data`, { confirmation: "acme" }, `/admin/instances/${instance.id}/delete`);
    expect(refused.status).toBe(409);
    expect(visibleText(refused.text)).toContain('Cannot delete: AppServer 1 of "Acme" (running) is not terminated.');
    expect(await databases("acme")).toHaveLength(7);

    const operator = await t.loginAs("operator");
    const token = await operator.csrf("/");
    expect((await operator.post(`/admin/instances/${instance.id}/delete-data`, { _csrf: token, confirmation: "acme" })).status).toBe(403);
    expect((await operator.get("/admin/kept-data")).status).toBe(403);
    expect((await operator.post("/admin/kept-data/owner/acme/drop", { _csrf: token, confirmation: "acme" })).status).toBe(403);
    // Without the CSRF token, even an admin's post is refused.
    expect((await admin.post(`/admin/instances/${instance.id}/delete-data`, { confirmation: "acme" })).status).toBe(403);
    expect(await databases("acme")).toHaveLength(7);
    expect(await t.deps.db.instance.count()).toBe(1);
  });

  it("gives up on a service that accepts the connection but never answers, at the deadline, and still reports the others", async () => {
    const { instance } = await acme();
    // A server that takes connections and says nothing: MySQL's greeting never comes.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const stuck = await service("MySQL stuck", "mysql", { host: "127.0.0.1", port, connectTimeoutSeconds: 60 }, { username: "root", password: "stuck-pass" });
      await recordDataResources(t.deps, instance.id, "acme", stuck.id, [{ kind: "database", name: "acme_stuck", status: "exists", sizeBytes: 1 }]);
      const report = await inspectOwnerData(t.deps, { scope: { instanceId: instance.id }, deadlineMs: 300 });
      expect(report.map((s) => [s.service.name, s.error])).toEqual([
        ["Mongo main", null], ["MySQL main", null], ["MySQL stuck", `MySQL stuck (127.0.0.1:${port}): no answer within 0.3 s`],
      ]);
      expect(report[2]!.resources).toMatchObject([{ name: "acme_stuck", status: "exists", sizeBytes: 1 }]);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("records what a service said per resource, and never hands another owner's kept row to a new instance", async () => {
    const mysql = await mysqlService();
    clock = Date.parse("2026-12-01T03:30:00Z");
    await recordDataResources(t.deps, null, "acme", mysql.id, [{ kind: "database", name: "acme_edxapp", status: "exists", sizeBytes: 2048 }]);
    const newcomer = await makeInstance(t.deps, { slug: "acme-2" });
    const refused = await recordDataResources(t.deps, newcomer.id, "acme-2", mysql.id, [{ kind: "database", name: "acme_edxapp", status: "exists" }]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "conflict", message: 'The database acme_edxapp already belongs to "acme" (its data is kept); it was not taken over.' });
    expect(await t.deps.db.instanceDataResource.findMany({ select: { instanceId: true, owner: true, sizeBytes: true, checkedAt: true } })).toEqual([
      { instanceId: null, owner: "acme", sizeBytes: 2048n, checkedAt: new Date("2026-12-01T03:30:00Z") },
    ]);
  });
});
