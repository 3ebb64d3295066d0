// The MongoDB adapter with the real `mongodb` driver against the in-test wire-protocol server
// (tests/helpers/mongo-wire-server.ts; no MongoDB server installs on this machine): what it makes
// per instance, that a derived user reaches only its own database, and how failures read.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MongoClient, MongoServerError } from "mongodb";
import { createMongodbAdapter, MARKER_COLLECTION, mongodbSettingsSchema } from "../src/adapters/data/mongodb.js";
import { DataServiceError, type InstanceDataPlan } from "../src/adapters/data/port.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { createSecrets } from "../src/crypto.js";
import { freePort } from "../src/embedded/processes.js";
import { startMongoWireServer, type MongoRole, type MongoWireServer } from "./helpers/mongo-wire-server.js";

const ADMIN = { user: "ocim-admin", password: "admin-pass-9f2c" };
const secrets = createSecrets("mongodb-test-secret-key-0123456789abcdef");
const planFor = (slug: string): InstanceDataPlan =>
  instanceDataPlan(secrets, { slug, secretKeyEncrypted: secrets.encrypt(`master-key-of-${slug}`) }, [`https://${slug}.lms.example.com`]);

describe("MongoDB adapter", () => {
  let server: MongoWireServer;
  const clients: MongoClient[] = [];

  const adapter = (server: MongoWireServer, overrides: Partial<{ port: number; password: string; connectTimeoutSeconds: number }> = {}) =>
    createMongodbAdapter(
      mongodbSettingsSchema.parse({ host: server.host, port: overrides.port ?? server.port, connectTimeoutSeconds: overrides.connectTimeoutSeconds ?? 5 }),
      { username: ADMIN.user, password: overrides.password ?? ADMIN.password },
    );

  /** A client of the driver as an appserver would use it: the derived user, its database as authSource. */
  const loginAs = async (user: { name: string; password: string; database: string }) => {
    const client = new MongoClient(`mongodb://${server.host}:${server.port}/`, {
      auth: { username: user.name, password: user.password },
      authSource: user.database,
      serverSelectionTimeoutMS: 5_000,
    });
    clients.push(client);
    await client.connect();
    return client;
  };

  const withAdmin = async (roles: MongoRole[], run: (s: MongoWireServer) => Promise<void>) => {
    const limited = await startMongoWireServer({ admin: { ...ADMIN, roles } });
    try {
      await run(limited);
    } finally {
      await limited.close();
    }
  };

  beforeAll(async () => {
    server = await startMongoWireServer({ admin: ADMIN });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.close();
  });

  describe("the stand-in server", () => {
    it("refuses a wrong password through SCRAM-SHA-256 with mongod's error, and accepts the right one", async () => {
      const wrong = new MongoClient(`mongodb://${server.host}:${server.port}/`, {
        auth: { username: ADMIN.user, password: "not-the-password" },
        serverSelectionTimeoutMS: 5_000,
      });
      clients.push(wrong);
      const err = await wrong.db("admin").command({ ping: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err).toMatchObject({ message: "Authentication failed.", code: 18, codeName: "AuthenticationFailed" });

      const unknown = new MongoClient(`mongodb://${server.host}:${server.port}/`, {
        auth: { username: "nobody", password: ADMIN.password },
        serverSelectionTimeoutMS: 5_000,
      });
      clients.push(unknown);
      await expect(unknown.connect()).rejects.toMatchObject({ code: 18 });

      const right = await loginAs({ name: ADMIN.user, password: ADMIN.password, database: "admin" });
      expect(await right.db("admin").command({ ping: 1 })).toMatchObject({ ok: 1 });
      expect(server.commands).toContain("saslContinue");
    });

    it("answers the saslStart the driver sends inside its handshake, as mongod 4.4+ does", async () => {
      const seen = server.commands.length;
      await loginAs({ name: ADMIN.user, password: ADMIN.password, database: "admin" });
      const sent = server.commands.slice(seen);
      expect(sent).toContain("saslContinue");
      expect(sent).not.toContain("saslStart");
    });

    it("reads OP_MSG document sequences (kind 1 sections) as the command's field", async () => {
      // The driver sends kind 1 sections only for MongoDB 8's bulkWrite; its own class builds one here.
      const { DocumentSequence } = await import("mongodb/lib/cmap/commands.js" as string);
      const admin = await loginAs({ name: ADMIN.user, password: ADMIN.password, database: "admin" });
      const reply = await admin.db("sequences").command({ insert: "c", documents: new DocumentSequence("documents", [{ _id: 1 }, { _id: 2 }]) });
      expect(reply).toMatchObject({ n: 2, ok: 1 });
      expect(server.databases.get("sequences")?.get("c")).toEqual([{ _id: 1 }, { _id: 2 }]);
    });

    it("asks for a login before anything but the handshake, ping and buildInfo", async () => {
      const anonymous = new MongoClient(`mongodb://${server.host}:${server.port}/`, { serverSelectionTimeoutMS: 5_000 });
      clients.push(anonymous);
      expect(await anonymous.db("admin").command({ buildInfo: 1 })).toMatchObject({ version: expect.stringMatching(/^6\./) });
      await expect(anonymous.db("admin").admin().listDatabases()).rejects.toMatchObject({ code: 13, codeName: "Unauthorized" });
    });
  });

  /** Databases and users whose name is the check's own (`ocim_check_…`). */
  const probesLeft = (s: MongoWireServer) => [...s.databases.keys(), ...Object.keys(s.users())].filter((name) => name.includes("ocim_check_"));

  it("check() does once what a launch and a deletion do, on a database and a user of its own, and leaves nothing", async () => {
    const sent = server.commands.length;
    await expect(adapter(server).check()).resolves.toEqual({ version: "6.0.0-ocim-stand-in" });
    expect(server.commands.slice(sent).filter((c) => !["hello", "ismaster", "saslStart", "saslContinue", "endSessions"].includes(c)))
      .toEqual(["ping", "buildInfo", "listDatabases", "insert", "usersInfo", "createUser", "updateUser", "dropUser", "dropDatabase"]);
    expect(probesLeft(server)).toEqual([]);
  });

  it("ensure() makes each database and a user per database with readWrite on it alone; again, it makes nothing new", async () => {
    const plan = planFor("ensure-twice");
    const first = await adapter(server).ensure(plan);
    expect(first.map((s) => [s.kind, s.name, s.status])).toEqual([
      ["database", "ensure_twice_edxapp", "exists"],
      ["database", "ensure_twice_forum", "exists"],
      ...plan.mongodb.users.map((u) => ["user", u.name, "exists"]),
    ]);
    for (const user of plan.mongodb.users) {
      expect(server.users()[`${user.database}.${user.name}`]).toEqual([{ role: "readWrite", db: user.database }]);
      expect(server.databases.get(user.database)?.get(MARKER_COLLECTION)).toEqual([{ _id: "ocim", owner: "ensure-twice" }]);
    }

    const usersBefore = Object.keys(server.users()).sort();
    const seen = server.commands.length;
    const second = await adapter(server).ensure(plan);
    expect(second).toEqual(first);
    expect(Object.keys(server.users()).sort()).toEqual(usersBefore);
    const sent = server.commands.slice(seen);
    expect(sent).not.toContain("createUser");
    expect(sent).not.toContain("insert");
    // The derived password is the same, so the appservers already running keep logging in.
    const edxapp = plan.mongodb.users.find((u) => u.role === "edxapp")!;
    expect(await (await loginAs(edxapp)).db(edxapp.database).command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it("gives a user made earlier by hand the derived password and only its own role", async () => {
    const plan = planFor("by-hand");
    const forum = plan.mongodb.users.find((u) => u.role === "forum")!;
    const admin = await loginAs({ name: ADMIN.user, password: ADMIN.password, database: "admin" });
    await admin.db(forum.database).command({ createUser: forum.name, pwd: "typed-by-hand", roles: [{ role: "read", db: "other" }] });

    await adapter(server).ensure(plan);

    expect(server.users()[`${forum.database}.${forum.name}`]).toEqual([{ role: "readWrite", db: forum.database }]);
    await expect(loginAs({ ...forum, password: "typed-by-hand" })).rejects.toMatchObject({ code: 18 });
    expect(await (await loginAs(forum)).db(forum.database).command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it("lets a derived user write and read its own database and refuses it another instance's", async () => {
    const mine = planFor("alpha");
    const theirs = planFor("beta");
    await adapter(server).ensure(mine);
    await adapter(server).ensure(theirs);
    const edxapp = mine.mongodb.users.find((u) => u.role === "edxapp")!;
    const client = await loginAs(edxapp);

    await client.db(edxapp.database).collection("modulestore").insertOne({ _id: "course-v1:x", title: "Demo" } as never);
    expect(await client.db(edxapp.database).collection("modulestore").find({ _id: "course-v1:x" } as never).toArray())
      .toEqual([{ _id: "course-v1:x", title: "Demo" }]);

    const other = theirs.mongodb.databases.find((d) => d.role === "edxapp")!.name;
    const write = await client.db(other).collection("modulestore").insertOne({ stolen: true }).catch((e: unknown) => e);
    expect(write).toMatchObject({ code: 13, codeName: "Unauthorized" });
    const read = await client.db(other).collection(MARKER_COLLECTION).find({}).toArray().catch((e: unknown) => e);
    expect(read).toMatchObject({ code: 13, codeName: "Unauthorized" });
    // Not even its own instance's forum database: one user per database.
    const forumDb = mine.mongodb.databases.find((d) => d.role === "forum")!.name;
    await expect(client.db(forumDb).collection("x").insertOne({})).rejects.toMatchObject({ code: 13 });
    expect(server.databases.get(other)?.get("modulestore")).toBeUndefined();
  });

  it("inspect() reports sizes of what exists and missing for what does not, changing nothing", async () => {
    const plan = planFor("sized");
    await adapter(server).ensure(plan);
    const edxapp = plan.mongodb.users.find((u) => u.role === "edxapp")!;
    const client = await loginAs(edxapp);
    await client.db(edxapp.database).collection("fs.chunks").insertOne({ data: "x".repeat(10_000) });

    const seen = server.commands.length;
    const states = await adapter(server).inspect(plan);
    const sizeOf = (name: string) => states.find((s) => s.name === name)?.sizeBytes ?? 0;
    expect(sizeOf("sized_edxapp")).toBeGreaterThan(10_000);
    expect(sizeOf("sized_forum")).toBeGreaterThan(0);
    expect(sizeOf("sized_forum")).toBeLessThan(1_000);
    expect(server.commands.slice(seen).filter((c) => ["insert", "createUser", "updateUser", "dropUser", "dropDatabase"].includes(c))).toEqual([]);

    const never = await adapter(server).inspect(planFor("never-made"));
    expect(never.map((s) => [s.name, s.status, s.sizeBytes])).toEqual([
      ["never_made_edxapp", "missing", null],
      ["never_made_forum", "missing", null],
      ...planFor("never-made").mongodb.users.map((u) => [u.name, "missing", undefined]),
    ]);
  });

  it("drop() removes the instance's databases and users, leaves another's, and reports missing the second time", async () => {
    const plan = planFor("doomed");
    const neighbour = planFor("neighbour");
    await adapter(server).ensure(plan);
    await adapter(server).ensure(neighbour);

    const dropped = await adapter(server).drop(plan);
    expect(dropped.every((s) => s.status === "exists")).toBe(true);
    expect(dropped).toHaveLength(4);
    expect([...server.databases.keys()].filter((d) => d.startsWith("doomed_"))).toEqual([]);
    expect(Object.keys(server.users()).filter((u) => u.startsWith("doomed_"))).toEqual([]);
    await expect(loginAs(plan.mongodb.users[0]!)).rejects.toMatchObject({ code: 18 });

    const again = await adapter(server).drop(plan);
    expect(again.map((s) => s.status)).toEqual(["missing", "missing", "missing", "missing"]);
    expect((await adapter(server).inspect(neighbour)).every((s) => s.status === "exists")).toBe(true);
  });

  describe("failures", () => {
    it("a wrong admin password is a clear, permanent error that names the server and not the password", async () => {
      const err = await adapter(server, { password: "wrong-admin-pass" }).check().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataServiceError);
      expect(err).toMatchObject({ transient: false });
      const message = (err as Error).message;
      expect(message).toBe(
        `MongoDB at 127.0.0.1:${server.port}: could not connect and ask its version: the login of 'ocim-admin' (authSource admin) was refused: wrong user name or password (Authentication failed.)`,
      );
      expect(message).not.toContain("wrong-admin-pass");
    });

    it("nothing listening is a transient error", async () => {
      const port = await freePort();
      const err = await adapter(server, { port, connectTimeoutSeconds: 1 }).ensure(planFor("nowhere")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataServiceError);
      expect(err).toMatchObject({ transient: true });
      expect((err as Error).message).toContain(`MongoDB at 127.0.0.1:${port}: could not list the databases of nowhere: nothing accepts connections there (connection refused)`);
    });

    it("over TLS, a certificate it cannot check is a permanent error; with its CA given, the check passes", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "ocim-mongo-tls-"));
      try {
        execFileSync("openssl", [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
          "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
        ], { stdio: "ignore", timeout: 30_000 });
        const cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
        const secure = await startMongoWireServer({ admin: ADMIN, tls: { key: readFileSync(path.join(dir, "key.pem"), "utf8"), cert } });
        try {
          const settings = { host: secure.host, port: secure.port, tls: true, connectTimeoutSeconds: 2 };
          const untrusted = await createMongodbAdapter(mongodbSettingsSchema.parse(settings), { username: ADMIN.user, password: ADMIN.password })
            .check().catch((e: unknown) => e);
          expect(untrusted).toBeInstanceOf(DataServiceError);
          expect(untrusted).toMatchObject({ transient: false });
          expect((untrusted as Error).message).toMatch(/^MongoDB at 127\.0\.0\.1:\d+: could not connect and ask its version: TLS failed: .*certificate/);

          const trusted = createMongodbAdapter(mongodbSettingsSchema.parse({ ...settings, caCert: cert }), { username: ADMIN.user, password: ADMIN.password });
          await expect(trusted.check()).resolves.toEqual({ version: "6.0.0-ocim-stand-in" });
        } finally {
          await secure.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("an administrator without dbAdminAnyDatabase cannot drop, and is told which command was refused", async () => {
      await withAdmin([{ role: "userAdminAnyDatabase", db: "admin" }, { role: "readWriteAnyDatabase", db: "admin" }], async (limited) => {
        const plan = planFor("half-rights");
        await adapter(limited).ensure(plan);
        const err = await adapter(limited).drop(plan).catch((e: unknown) => e);
        expect(err).toMatchObject({ transient: false });
        expect((err as Error).message).toMatch(/could not drop database half_rights_edxapp: the administrator 'ocim-admin' lacks a role: not authorized on half_rights_edxapp/);
        for (const u of plan.mongodb.users) expect((err as Error).message).not.toContain(u.password);
      });
    });

    it("check() refuses an administrator without the roles a launch or a deletion needs, naming the step, and drops what it made", async () => {
      const refusal = async (roles: MongoRole[]) => {
        let message = "";
        await withAdmin(roles, async (limited) => {
          const err = await adapter(limited).check().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(DataServiceError);
          expect(err).toMatchObject({ transient: false });
          message = (err as Error).message;
          // What the check made is gone, unless the message says it could not drop it.
          expect(probesLeft(limited).length > 0).toBe(message.includes("is left on the server"));
        });
        return message;
      };
      const any = (role: string): MongoRole => ({ role, db: "admin" });
      const lacks = "the administrator 'ocim-admin' lacks a role: not authorized on ocim_check_[0-9a-f]{8}";
      // Read-only: it cannot make the database, so nothing is left.
      expect(await refusal([any("readAnyDatabase")])).toMatch(new RegExp(
        `^MongoDB at 127\\.0\\.0\\.1:\\d+: could not create database (ocim_check_[0-9a-f]{8}) \\(the privilege check's own\\): ${lacks} to execute command \\{ insert`));
      // No user administration, and no dbAdmin to drop the database it made: it says so.
      expect(await refusal([any("readWriteAnyDatabase")])).toMatch(new RegExp(
        `could not look up user (ocim_check_[0-9a-f]{8}) in \\1, and could not drop it again \\(\\1 is left on the server: drop it by hand\\): ${lacks} to execute command \\{ usersInfo`));
      // Users but no dbAdmin: the user goes, the database cannot.
      expect(await refusal([any("readWriteAnyDatabase"), any("userAdminAnyDatabase")])).toMatch(new RegExp(
        `could not drop database (ocim_check_[0-9a-f]{8}) \\(\\1 is left on the server: drop it by hand\\): ${lacks} to execute command \\{ dropDatabase`));
      // dbAdmin and readWrite but no user administration: refused at the user, and what it made is dropped.
      expect(await refusal([any("readWriteAnyDatabase"), any("dbAdminAnyDatabase")])).toMatch(/could not look up user ocim_check_[0-9a-f]{8} in ocim_check_[0-9a-f]{8}: the administrator 'ocim-admin' lacks a role/);
      // The three roles a launch and a deletion use (not root) pass, and nothing is left.
      await withAdmin([any("readWriteAnyDatabase"), any("userAdminAnyDatabase"), any("dbAdminAnyDatabase")], async (limited) => {
        await expect(adapter(limited).check()).resolves.toEqual({ version: "6.0.0-ocim-stand-in" });
        expect(probesLeft(limited)).toEqual([]);
      });
    });

    it("an administrator without user administration fails ensure() at the user, permanently", async () => {
      await withAdmin([{ role: "readWriteAnyDatabase", db: "admin" }], async (limited) => {
        const plan = planFor("no-users");
        const err = await adapter(limited).ensure(plan).catch((e: unknown) => e);
        expect(err).toMatchObject({ transient: false });
        expect((err as Error).message).toMatch(/^MongoDB at 127\.0\.0\.1:\d+: could not look up user no_users_\w+ in no_users_edxapp: the administrator 'ocim-admin' lacks a role/);
      });
    });
  });
});
