// Data services in the admin: each bad value is refused next to its field and saves nothing; a
// connection the adapter cannot make is refused with what failed; a good one is saved with what
// answered; stored credentials never show, typed ones come back on a refused form; the checks that
// need no connection all come first and together; one default per kind; one in use cannot be deleted.
// Storage is a real S3 REST server (s3rver); it accepts any SigV4 secret, so the secret below is
// ours to look for on the pages (tests/helpers/s3-server.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import net, { type AddressInfo } from "node:net";
import { fieldError, fieldValue, visibleText, type Agent } from "./helpers/browserless.js";
import { startS3Server, type S3Server } from "./helpers/s3-server.js";
import { freePort } from "./helpers/redis-server.js";
import { makeInstance } from "./helpers/factories.js";
import { instanceToInput } from "../src/domain/instances/instance-input.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { createConnection } from "mysql2/promise";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";
import { MongoClient } from "mongodb";
import { startMongoWireServer, type MongoWireServer } from "./helpers/mongo-wire-server.js";

const SECRET = "s3-secret-never-shown-42";

describe("admin: data services", () => {
  let t: TestApp;
  let admin: Agent;
  let s3: S3Server;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("root", { admin: true });
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  const form = (settings: object | string, credentials: object | string = { accessKeyId: "S3RVER", secretAccessKey: SECRET }, extra: Record<string, string> = {}) => ({
    name: "Campus storage", kind: "s3",
    settings: typeof settings === "string" ? settings : JSON.stringify(settings),
    credentials: typeof credentials === "string" ? credentials : JSON.stringify(credentials),
    ...extra,
  });

  it.each([
    ["an endpoint that is not a URL", form({ endpoint: "minio.local:9000" }), "settings", 'Not valid for Storage (S3): "endpoint" must be an http(s) URL.'],
    ["a misspelt key", form({ endpoint: "http://127.0.0.1:1", forcePathstyle: true }), "settings", 'Not valid for Storage (S3): unknown key "forcePathstyle".'],
    ["credentials without the secret", form({}, { accessKeyId: "S3RVER" }), "credentials", 'Not valid for Storage (S3): "secretAccessKey" is missing. Required keys: accessKeyId, secretAccessKey.'],
    ["no credentials", form({}, ""), "credentials", 'Required: a JSON object with "accessKeyId", "secretAccessKey".'],
  ])("refuses %s next to the field, keeps the credentials typed, and saves nothing", async (_what, values, field, message) => {
    const res = await admin.submit("/admin/data-services/add", values);
    expect(res.status).toBe(400);
    expect(fieldError(res.text, field)).toBe(message);
    expect(fieldValue(res.text, "credentials")).toBe(values.credentials);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await t.deps.db.dataService.count()).toBe(0);
  });

  it("refuses a service it cannot reach, saying what failed, and saves nothing", async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const res = await admin.submit("/admin/data-services/add", form({ endpoint, forcePathStyle: true }));
    expect(res.status).toBe(400);
    const text = visibleText(res.text);
    expect(text).toContain(`The connection test failed, so nothing was saved: Storage ${endpoint}: ListBuckets failed: connect ECONNREFUSED`);
    expect(fieldValue(res.text, "credentials")).toBe(form({}).credentials);
    expect(await t.deps.db.dataService.count()).toBe(0);
  });

  it("saves a service that answers, with what answered, keeps one default per kind, and never shows the keys", async () => {
    const ok = await admin.submit("/admin/data-services/add", form(s3.settings, undefined, { isDefault: "true" }));
    expect(visibleText(ok.text)).toMatch(/The data service "Campus storage" was added\. Connection tested: .*buckets visible\)\./);
    const first = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Campus storage" } });
    expect([first.kind, first.isDefault, first.settings]).toEqual(["s3", true, s3.settings]);
    expect(JSON.parse(t.deps.secrets.decrypt(first.credentialsEncrypted))).toEqual({ accessKeyId: "S3RVER", secretAccessKey: SECRET });

    await admin.submit("/admin/data-services/add", { ...form(s3.settings, undefined, { isDefault: "true" }), name: "Second storage" });
    const second = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Second storage" } });
    expect([(await t.deps.db.dataService.findUniqueOrThrow({ where: { id: first.id } })).isDefault, second.isDefault]).toEqual([false, true]);

    // An edit with the credentials blank keeps them (and still tests the connection with them).
    const edited = await admin.submit(`/admin/data-services/${first.id}`, form({ ...s3.settings, region: "eu-west-1" }, ""), `/admin/data-services/${first.id}`);
    expect(visibleText(edited.text)).toContain('The data service "Campus storage" was saved. Connection tested:');
    expect((await t.deps.db.dataService.findUniqueOrThrow({ where: { id: first.id } })).credentialsEncrypted).toBe(first.credentialsEncrypted);

    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "DataService" } });
    expect(events.map((e) => e.action).sort()).toEqual(["data_service.created", "data_service.created", "data_service.updated", "data_service.updated"]);
    for (const path of ["/admin/data-services", `/admin/data-services/${first.id}`, `/admin/data-services/${first.id}/history`, ...events.map((e) => `/admin/audit-events/${e.id}`)]) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).not.toContain(SECRET);
      expect(res.text, path).not.toContain(first.credentialsEncrypted);
    }
  });

  it("refuses to delete a service that holds an instance's data, naming the instance", async () => {
    const service = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Campus storage" } });
    await makeInstance(t.deps, { name: "Physics 101", storageServiceId: service.id });
    const confirm = await admin.get(`/admin/data-services/${service.id}/delete`);
    expect(visibleText(confirm.text)).toContain("It holds the data of the instance: Physics 101. Moving data between services is not supported.");
    const forced = await admin.submit(`/admin/data-services/${service.id}/delete`, {}, `/admin/data-services/${service.id}`);
    expect(forced.status).toBe(409);
    expect(visibleText(forced.text)).toContain('The data service "Campus storage" cannot be deleted. It holds the data of the instance: Physics 101.');
    expect(await t.deps.db.dataService.count({ where: { id: service.id } })).toBe(1);
    const unused = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Second storage" } });
    await admin.submit(`/admin/data-services/${unused.id}/delete`, {}, `/admin/data-services/${unused.id}`);
    expect(await t.deps.db.dataService.count({ where: { id: unused.id } })).toBe(0);
  });

  it("preselects the defaults for a new instance, and refuses moving an instance whose data exists elsewhere", async () => {
    const campus = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Campus storage" } });
    await t.deps.db.dataService.updateMany({ data: { isDefault: false } });
    await t.deps.db.dataService.update({ where: { id: campus.id }, data: { isDefault: true } });
    const other = await t.deps.db.dataService.create({ data: { name: "Other storage", kind: "s3", settings: s3.settings, credentialsEncrypted: campus.credentialsEncrypted } });
    const addPage = await admin.get("/admin/instances/add");
    expect(addPage.text).toContain(`<option value="${campus.id}" selected>Campus storage (default)</option>`);
    expect(addPage.text).toContain('<option value="" selected>&#8212; none: on each appserver &#8212;</option>');

    const fresh = await makeInstance(t.deps, { name: "Chemistry", storageServiceId: campus.id });
    // Everything the edit form sends, as a browser would.
    const edit = (values: Record<string, string>) => admin.submit(`/admin/instances/${fresh.id}`, { ...instanceToInput(fresh), ...values }, `/admin/instances/${fresh.id}`);
    // Nothing exists there yet: any choice, and back.
    await edit({ storageServiceId: String(other.id) });
    expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: fresh.id } })).storageServiceId).toBe(other.id);
    const wrongKind = await edit({ storageServiceId: String(other.id), mysqlServiceId: String(campus.id) });
    expect(fieldError(wrongKind.text, "mysqlServiceId")).toBe("This is not a MySQL service; choose one of that kind.");

    await t.deps.db.instanceDataResource.create({ data: { instanceId: fresh.id, owner: fresh.slug, serviceId: other.id, kind: "bucket", name: "ocim-chem-1", status: "exists", checkedAt: new Date() } });
    for (const choice of [String(campus.id), ""]) {
      const refused = await edit({ storageServiceId: choice });
      expect(refused.status).toBe(400);
      expect(fieldError(refused.text, "storageServiceId")).toBe("This instance's Storage data is on Other storage (ocim-chem-1). Moving data between services is not supported: keep Other storage.");
      expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: fresh.id } })).storageServiceId).toBe(other.id);
    }
  });

  it("refuses a service at an address of this host only (the embedded MariaDB's 127.0.0.1) for an instance whose VMs come from a cloud", async () => {
    const credentialsEncrypted = t.deps.secrets.encrypt('{"username":"ocim","password":"x"}');
    const onHost = await t.deps.db.dataService.create({ data: { name: "Host MariaDB", kind: "mysql", settings: { host: "127.0.0.1", port: 28295 }, credentialsEncrypted } });
    const minio = await t.deps.db.dataService.create({ data: { name: "Host MinIO", kind: "s3", settings: { endpoint: "http://localhost:9000", forcePathStyle: true }, credentialsEncrypted } });
    const shared = await t.deps.db.dataService.create({ data: { name: "Shared MySQL", kind: "mysql", settings: { host: "db.example.net" }, credentialsEncrypted } });
    const site = await makeInstance(t.deps, { name: "Biology", providerKind: "local", mysqlServiceId: onHost.id, storageServiceId: minio.id });
    const edit = (values: Record<string, string>) => admin.submit(`/admin/instances/${site.id}`, { ...instanceToInput(site), ...values }, `/admin/instances/${site.id}`);

    const refused = await edit({ providerKind: "openstack" });
    expect(refused.status).toBe(400);
    expect(fieldError(refused.text, "mysqlServiceId")).toBe(
      "Host MariaDB is at 127.0.0.1:28295, an address of this host only: the openstack VMs of this instance cannot reach it there. Choose a MySQL service at an address the VMs reach (add one under Data services), or none.",
    );
    expect(fieldError(refused.text, "storageServiceId")).toBe(
      "Host MinIO is at http://localhost:9000, an address of this host only: the openstack VMs of this instance cannot reach it there. Choose a Storage service at an address the VMs reach (add one under Data services), or none.",
    );
    expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).providerKind).toBe("local");

    await edit({ providerKind: "openstack", mysqlServiceId: String(shared.id), storageServiceId: "" });
    expect(await t.deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).toMatchObject({ providerKind: "openstack", mysqlServiceId: shared.id, storageServiceId: null });

    // One saved before the admin refused it is stopped at launch, before any VM is made.
    const older = await makeInstance(t.deps, { name: "Geology", providerKind: "openstack", mysqlServiceId: onHost.id });
    await expect(launchAppServer(t.deps, { instanceId: older.id, actor: { id: null, login: "tester" } })).rejects.toThrow(
      "Host MariaDB is at 127.0.0.1:28295, an address of this host only: the openstack VMs of this instance cannot reach it there. Choose another in the admin (Edit in admin) before launching.",
    );
    expect(await t.deps.db.appServer.count({ where: { instanceId: older.id } })).toBe(0);
  });
  it("reports a duplicate name with every other problem at once, before any connection test, and keeps what was typed", async () => {
    await t.deps.db.dataService.create({ data: { name: "Embedded MySQL", kind: "mysql", settings: { host: "127.0.0.1" }, credentialsEncrypted: t.deps.secrets.encrypt('{"username":"root","password":"stored-pass"}') } });
    // A server that takes connections and says nothing: a connection test would wait for its deadline.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as AddressInfo).port;
    const typed = JSON.stringify({ username: "root", password: "typed-pass-7" });
    const add = async (values: Record<string, string>) =>
      admin.post("/admin/data-services/add", { _csrf: await admin.csrf("/admin/data-services/add"), kind: "mysql", credentials: typed, ...values }, { timeoutMs: 5_000 });
    try {
      const duplicate = await add({ name: "Embedded MySQL", settings: JSON.stringify({ host: "127.0.0.1", port, connectTimeoutSeconds: 60 }) });
      expect(duplicate.status).toBe(400);
      expect(fieldError(duplicate.text, "name")).toBe("Another data service already has this name.");
      expect(fieldValue(duplicate.text, "credentials")).toBe(typed);

      const everything = await add({ name: "Embedded MySQL", settings: JSON.stringify({ port }) });
      expect([fieldError(everything.text, "name"), fieldError(everything.text, "settings")]).toEqual([
        "Another data service already has this name.", 'Not valid for MySQL: "host" is missing. Required keys: host.',
      ]);
      expect(fieldValue(everything.text, "credentials")).toBe(typed);
      expect(sockets).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
    expect(await t.deps.db.dataService.count({ where: { name: "Embedded MySQL" } })).toBe(1);
  });

  it("on an edit, gives back credentials typed anew but never the stored ones", async () => {
    const stored = await t.deps.db.dataService.findUniqueOrThrow({ where: { name: "Embedded MySQL" } });
    const path = `/admin/data-services/${stored.id}`;
    const edit = (credentials: string) => admin.submit(path, { name: "Embedded MySQL", kind: "mysql", settings: "{not json", credentials }, path);
    const retyped = JSON.stringify({ username: "root", password: "new-pass-8" });
    const typedAnew = await edit(retyped);
    expect(typedAnew.status).toBe(400);
    expect(fieldError(typedAnew.text, "settings")).not.toBeNull();
    expect(fieldValue(typedAnew.text, "credentials")).toBe(retyped);
    const blank = await edit("");
    expect(fieldValue(blank.text, "credentials")).toBe("");
    for (const page of [blank, await admin.get(path)]) {
      expect(page.text).not.toContain("stored-pass");
      expect(page.text).not.toContain(stored.credentialsEncrypted);
    }
  });
});

/** The add form of a database server's data service, at `server` with one administrator login. */
function serverForm(name: string, kind: "mysql" | "mongodb", server: { host: string; port: number }, username: string, password: string) {
  return { name, kind, settings: JSON.stringify({ host: server.host, port: server.port }), credentials: JSON.stringify({ username, password }) };
}

describe("admin: a MySQL server whose administrator may not create", () => {
  let t: TestApp;
  let admin: Agent;
  let mariadb: MariadbServer;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("root", { admin: true });
    mariadb = await startMariadbServer();
    const root = await createConnection({ host: mariadb.host, port: mariadb.port, user: mariadb.username, password: mariadb.password });
    await root.query("CREATE USER 'looker'@'%' IDENTIFIED BY 'looker-pass-77'");
    await root.query("GRANT SELECT, SHOW DATABASES ON *.* TO 'looker'@'%'");
    await root.end();
  });
  afterAll(async () => {
    await t?.close();
    await mariadb?.stop();
  });

  const mysqlForm = (username: string, password: string) => serverForm("Campus MySQL", "mysql", mariadb, username, password);

  it("is refused when saved, naming the privilege, where connecting alone would have passed; its administrator is saved", async () => {
    const refused = await admin.submit("/admin/data-services/add", mysqlForm("looker", "looker-pass-77"));
    expect(refused.status).toBe(400);
    expect(visibleText(refused.text)).toMatch(new RegExp(
      `The connection test failed, so nothing was saved: MySQL at 127\\.0\\.0\\.1:${mariadb.port}: could not create database ocim_check_[0-9a-f]{8} \\(the privilege check's own\\): the administrator 'looker' lacks a privilege: Access denied`));
    // What was typed comes back in its field (no-store), as on any refused form; nowhere else.
    expect(fieldValue(refused.text, "credentials")).toBe(mysqlForm("looker", "looker-pass-77").credentials);
    expect(refused.text.split("looker-pass-77")).toHaveLength(2);
    expect(await t.deps.db.dataService.count()).toBe(0);

    const saved = await admin.submit("/admin/data-services/add", mysqlForm(mariadb.username, mariadb.password));
    expect(visibleText(saved.text)).toMatch(/The data service "Campus MySQL" was added\. Connection tested: .*MariaDB/);
    expect(await t.deps.db.dataService.count()).toBe(1);
  });
});

// The MongoDB stand-in speaks the wire protocol and mongod's built-in roles (tests/helpers/mongo-wire-server.ts).
describe("admin: a MongoDB server whose administrator may not manage users", () => {
  let t: TestApp;
  let admin: Agent;
  let mongo: MongoWireServer;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("root", { admin: true });
    mongo = await startMongoWireServer({ admin: { user: "ocim-admin", password: "mongo-admin-pass-5" } });
    // A second login in "admin" that may read and write every database, but neither manage users nor drop.
    const root = new MongoClient(`mongodb://${mongo.host}:${mongo.port}/`, { auth: { username: "ocim-admin", password: "mongo-admin-pass-5" }, serverSelectionTimeoutMS: 5_000 });
    await root.db("admin").command({ createUser: "writer", pwd: "writer-pass-31", roles: [{ role: "readWriteAnyDatabase", db: "admin" }] });
    await root.close();
  });
  afterAll(async () => {
    await t?.close();
    await mongo?.close();
  });

  const mongoForm = (username: string, password: string) => serverForm("Campus MongoDB", "mongodb", mongo, username, password);

  it("is refused when saved, naming the command and the role, and leaves nothing it could drop; its administrator is saved", async () => {
    const refused = await admin.submit("/admin/data-services/add", mongoForm("writer", "writer-pass-31"));
    expect(refused.status).toBe(400);
    expect(visibleText(refused.text)).toMatch(new RegExp(
      `The connection test failed, so nothing was saved: MongoDB at 127\\.0\\.0\\.1:${mongo.port}: could not look up user (ocim_check_[0-9a-f]{8}) in \\1, and could not drop it again \\(\\1 is left on the server: drop it by hand\\): the administrator 'writer' lacks a role: not authorized`));
    expect(refused.text.split("writer-pass-31")).toHaveLength(2);
    expect(await t.deps.db.dataService.count()).toBe(0);

    const saved = await admin.submit("/admin/data-services/add", mongoForm("ocim-admin", "mongo-admin-pass-5"));
    expect(visibleText(saved.text)).toMatch(/The data service "Campus MongoDB" was added\. Connection tested: 6\.0\.0-ocim-stand-in/);
    expect(await t.deps.db.dataService.count()).toBe(1);
    // Left: the refused check's database only (its login could not drop it); the saved one's check dropped its own.
    expect([...mongo.databases.keys(), ...Object.keys(mongo.users())].filter((n) => n.includes("ocim_check_"))).toHaveLength(1);
  });
});
