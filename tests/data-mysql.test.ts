// The MySQL adapter against a real MariaDB (tests/helpers/mariadb.ts): what an instance gets on the
// shared server (its databases, one user per service, grants on its own databases only), what a
// second run changes (nothing), what inspect and drop say, and how failures read.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createConnection, type Connection, type RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMysqlAdapter, mysqlCredentialsSchema, mysqlSettingsSchema } from "../src/adapters/data/mysql.js";
import { DataServiceError, type DataServiceAdapter, type InstanceDataPlan } from "../src/adapters/data/port.js";
import { createSecrets } from "../src/crypto.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { freePort } from "../src/embedded/processes.js";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";

const secrets = createSecrets("data-mysql-test-key");
const planFor = (slug: string): InstanceDataPlan =>
  instanceDataPlan(secrets, { slug, secretKeyEncrypted: secrets.encrypt(`master key of ${slug}`) }, [`https://${slug}.example.com`]);

describe("MySQL adapter on a real MariaDB", () => {
  let server: MariadbServer;
  let admin: Connection;
  let adapter: DataServiceAdapter;
  const opened: Connection[] = [];

  const make = (settings: Record<string, unknown> = {}, credentials: Partial<{ username: string; password: string }> = {}) =>
    createMysqlAdapter(
      mysqlSettingsSchema.parse({ host: server.host, port: server.port, ...settings }),
      mysqlCredentialsSchema.parse({ username: server.username, password: server.password, ...credentials }),
    );
  const login = async (user: string, password: string, database?: string) => {
    const c = await createConnection({ host: server.host, port: server.port, user, password, database });
    opened.push(c);
    return c;
  };
  const rows = async (c: Connection, sql: string, values: unknown[] = []) => (await c.query<RowDataPacket[]>(sql, values))[0];
  const failure = async (promise: Promise<unknown>): Promise<Error & { code?: string; transient?: boolean }> => {
    try {
      await promise;
    } catch (err) {
      return err as Error & { code?: string };
    }
    throw new Error("expected a failure");
  };

  beforeAll(async () => {
    server = await startMariadbServer();
    admin = await createConnection({ host: server.host, port: server.port, user: server.username, password: server.password });
    adapter = make();
  });
  afterAll(async () => {
    for (const c of opened) await c.end().catch(() => {});
    await admin?.end();
    await server?.stop();
  });

  // "a-b" and "aab": their database names differ only where GRANT's `_` wildcard would match.
  const first = planFor("a-b");
  const second = planFor("aab");

  it("creates every database and user of a plan, and a second run changes nothing", async () => {
    const states = await adapter.ensure(first);
    expect(states.filter((s) => s.kind === "database").map((s) => [s.name, s.status])).toEqual(
      ["edxapp", "edxapp_csmh", "ecommerce", "discovery", "xqueue", "notes", "credentials"].map((role) => [`a_b_${role}`, "exists"]),
    );
    expect(states.filter((s) => s.kind === "user").map((s) => s.status)).toEqual(first.mysql.users.map(() => "exists"));
    const names = first.mysql.databases.map((d) => d.name);
    const schemata = await rows(admin, "SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)", [names]);
    expect(schemata.map((r) => [r.name, r.charset]).sort()).toEqual(names.map((n) => [n, "utf8mb4"]).sort());

    const snapshot = async () => ({
      users: await rows(admin, "SELECT User, Host, Priv FROM mysql.global_priv WHERE User IN (?) ORDER BY User", [first.mysql.users.map((u) => u.name)]),
      grants: await rows(admin, "SELECT * FROM mysql.db WHERE User IN (?) ORDER BY User, Db", [first.mysql.users.map((u) => u.name)]),
      databases: await rows(admin, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1"),
    });
    // A password's age as of long ago: an ALTER USER on the second run would show as "now".
    await admin.query("UPDATE mysql.global_priv SET Priv = JSON_SET(Priv, '$.password_last_changed', 1) WHERE User IN (?)", [first.mysql.users.map((u) => u.name)]);
    await admin.query("FLUSH PRIVILEGES");
    const before = await snapshot();
    expect(before.grants.map((g) => [g.User, g.Db])).toEqual(
      first.mysql.users.flatMap((u) => u.databases.map((d) => [u.name, d.replace(/_/g, "\\_")])).sort((a, b) => a.join().localeCompare(b.join())),
    );
    expect(await adapter.ensure(first)).toEqual(states);
    expect(await snapshot()).toEqual(before);
  });

  it("lets each user in with its derived password, to its own databases only", async () => {
    await adapter.ensure(second);
    const edxapp = first.mysql.users.find((u) => u.role === "edxapp")!;
    const c = await login(edxapp.name, edxapp.password, "a_b_edxapp");
    await c.query("CREATE TABLE visits (n INT)");
    await c.query("CREATE TABLE a_b_edxapp_csmh.history (n INT)");
    expect((await rows(c, "SHOW DATABASES")).map((r) => r.Database).sort()).toEqual(["a_b_edxapp", "a_b_edxapp_csmh", "information_schema"]);
    // Another instance's database, whose name GRANT's `_` wildcard would match; and a sibling service's.
    for (const other of ["aab_edxapp", "a_b_ecommerce"]) {
      const refused = await failure(c.query(`CREATE TABLE ${other}.stolen (n INT)`));
      expect(refused.code, other).toMatch(/^ER_(DB|TABLE)ACCESS_DENIED_ERROR$/);
      expect((await failure(c.query(`USE ${other}`))).code).toBe("ER_DBACCESS_DENIED_ERROR");
    }
    const theirs = second.mysql.users.find((u) => u.role === "edxapp")!;
    expect((await failure(login(theirs.name, edxapp.password))).code).toBe("ER_ACCESS_DENIED_ERROR");
    expect((await failure((await login(theirs.name, theirs.password)).query("USE a_b_edxapp"))).code).toBe("ER_DBACCESS_DENIED_ERROR");
  });

  it("gives a user made by hand with another password the derived one", async () => {
    const plan = planFor("by-hand");
    const user = plan.mysql.users[0]!;
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY 'typed-by-hand'", [user.name]);
    await adapter.ensure(plan);
    expect(await rows(await login(user.name, user.password), "SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect((await failure(login(user.name, "typed-by-hand"))).code).toBe("ER_ACCESS_DENIED_ERROR");
    await adapter.drop(plan);
  });

  it("reports database sizes, and drops what there is, saying missing for what was already gone", async () => {
    const edxapp = second.mysql.users.find((u) => u.role === "edxapp")!;
    const c = await login(edxapp.name, edxapp.password, "aab_edxapp");
    await c.query("CREATE TABLE courses (id INT PRIMARY KEY, title VARCHAR(200))");
    await c.query("INSERT INTO courses VALUES ?", [Array.from({ length: 500 }, (_, i) => [i, `course ${i}`.padEnd(150, ".")])]);
    await c.query("ANALYZE TABLE courses"); // InnoDB's figures in information_schema.TABLES are estimates until then
    const inspected = await adapter.inspect(second);
    const size = (name: string) => inspected.find((s) => s.name === name)?.sizeBytes;
    expect(size("aab_edxapp")).toBeGreaterThan(16_384);
    expect(size("aab_ecommerce")).toBe(0);
    expect(inspected.every((s) => s.status === "exists")).toBe(true);
    expect((await adapter.inspect(planFor("never-made"))).map((s) => s.status)).toEqual(planFor("never-made").mysql.databases.map(() => "missing").concat(planFor("never-made").mysql.users.map(() => "missing")));

    const dropped = await adapter.drop(second);
    expect(dropped.map((s) => s.status)).toEqual(inspected.map(() => "exists"));
    expect((await adapter.inspect(second)).map((s) => s.status)).toEqual(inspected.map(() => "missing"));
    expect((await failure(login(edxapp.name, edxapp.password))).code).toMatch(/^ER_ACCESS_DENIED/);
    expect((await adapter.drop(second)).map((s) => s.status)).toEqual(inspected.map(() => "missing"));
    // The other instance keeps everything.
    expect((await adapter.inspect(first)).every((s) => s.status === "exists")).toBe(true);
  });

  it("quotes names from a crafted plan instead of running them", async () => {
    await admin.query("CREATE DATABASE IF NOT EXISTS victim");
    const crafted: InstanceDataPlan = {
      ...first,
      owner: "x`; DROP DATABASE victim; --",
      mysql: {
        databases: [{ name: "x`; DROP DATABASE victim; --", role: "edxapp" }],
        users: [{ name: "u'@'%'; DROP DATABASE victim; --", password: "p'; DROP DATABASE victim; --", role: "edxapp", databases: ["x`; DROP DATABASE victim; --"] }],
      },
    };
    expect((await adapter.ensure(crafted)).map((s) => s.status)).toEqual(["exists", "exists"]);
    expect(await rows(admin, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('victim', ?) ORDER BY 1", [crafted.mysql.databases[0]!.name]))
      .toEqual([{ name: "victim" }, { name: crafted.mysql.databases[0]!.name }]);
    const user = crafted.mysql.users[0]!;
    expect(await rows(await login(user.name, user.password), "SELECT DATABASE() AS db, CURRENT_USER() AS me")).toEqual([{ db: null, me: `${user.name}@%` }]);
    expect((await adapter.drop(crafted)).map((s) => s.status)).toEqual(["exists", "exists"]);
    expect(await rows(admin, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'victim'")).toEqual([{ name: "victim" }]);
  });

  it("says a wrong password is wrong, names the server, and that retrying will not help", async () => {
    const err = await failure(make({}, { password: "not-the-password" }).check());
    expect(err).toBeInstanceOf(DataServiceError);
    expect(err.message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${server.port}: could not connect and ask its version: the login of 'ocim' was refused: wrong user name or password`));
    expect(err.transient).toBe(false);
    expect(err.message).not.toContain("not-the-password");
    expect(await adapter.check()).toEqual({ version: expect.stringMatching(/MariaDB/) });
  });

  it("says nothing listens, and that it may pass, when the port is closed", async () => {
    const port = await freePort();
    const err = await failure(make({ port }).check());
    expect(err).toBeInstanceOf(DataServiceError);
    expect(err.message).toBe(`MySQL at 127.0.0.1:${port}: could not connect and ask its version: nothing accepts connections there (connection refused)`);
    expect(err.transient).toBe(true);
  });

  it("leaves a message whole when a short password is only part of its words, and masks it where it stands alone", async () => {
    const port = await freePort();
    for (const password of ["e", "127", "1"]) {
      const err = await failure(make({ port }, { password }).check());
      expect(err.message, password).toBe(`MySQL at 127.0.0.1:${port}: could not connect and ask its version: nothing accepts connections there (connection refused)`);
    }
    // MariaDB says "(using password: YES)": a password "YES" is that word, so it is masked there.
    const refused = await failure(make({}, { password: "YES" }).check());
    expect(refused.message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${server.port}: could not connect and ask its version: the login of 'ocim' was refused: wrong user name or password \\(Access denied for user 'ocim'@'[^']+' \\(using password: ••••••\\)\\)$`));
  });

  it("says TLS is not offered when TLS is on and the server has none", async () => {
    const err = await failure(make({ tls: true }).check());
    expect(err.message).toMatch(/TLS is on for this server, but the server does not offer TLS/);
    expect(err.transient).toBe(false);
  });

  /** What check() made and left: its databases and users are named ocim_check_<hex>. */
  const probesLeft = async () => [
    ...(await rows(admin, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'ocim\\_check\\_%'")),
    ...(await rows(admin, "SELECT User AS name FROM mysql.user WHERE User LIKE 'ocim\\_check\\_%'")),
  ];

  it("checks, when asked, that the administrator may create, grant and drop, and leaves nothing behind", async () => {
    expect(await adapter.check()).toEqual({ version: expect.stringMatching(/MariaDB/) });
    expect(await probesLeft()).toEqual([]);

    // A login that may look but not create: connecting alone would have passed.
    await admin.query("CREATE USER 'looker'@'%' IDENTIFIED BY 'looker-password'");
    await admin.query("GRANT SELECT, SHOW DATABASES ON *.* TO 'looker'@'%'");
    const looker = await failure(make({}, { username: "looker", password: "looker-password" }).check());
    expect(looker.message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${server.port}: could not create database ocim_check_[0-9a-f]{8} \\(the privilege check's own\\): the administrator 'looker' lacks a privilege: Access denied`));
    expect(looker.transient).toBe(false);

    // May create databases, not users.
    await admin.query("CREATE USER 'weak'@'%' IDENTIFIED BY 'weak-password'");
    await admin.query("GRANT CREATE, DROP ON *.* TO 'weak'@'%'");
    const weak = await failure(make({}, { username: "weak", password: "weak-password" }).check());
    expect(weak.message).toMatch(/could not create user ocim_check_[0-9a-f]{8} \(the privilege check's own\): the administrator 'weak' lacks a privilege: .*CREATE USER/);
    // The database it had made is gone again.
    expect(await probesLeft()).toEqual([]);

    // Users too, but without the privileges GRANT ALL hands out.
    await admin.query("GRANT CREATE USER ON *.* TO 'weak'@'%' WITH GRANT OPTION");
    const grant = await failure(make({}, { username: "weak", password: "weak-password" }).check());
    expect(grant.message).toMatch(/could not grant user ocim_check_[0-9a-f]{8} all privileges on ocim_check_[0-9a-f]{8}: the administrator 'weak' lacks a privilege: Access denied .* \(to grant ALL on a database, the administrator needs every database-level privilege on it/);
    expect(await probesLeft()).toEqual([]);

    // May create a database but neither drop it nor create users: what it made stays, and it says so.
    await admin.query("CREATE USER 'maker'@'%' IDENTIFIED BY 'maker-password'");
    await admin.query("GRANT CREATE ON *.* TO 'maker'@'%'");
    const maker = await failure(make({}, { username: "maker", password: "maker-password" }).check());
    expect(maker.message).toMatch(/could not create user (ocim_check_[0-9a-f]{8}) \(the privilege check's own\), and could not drop it again \(\1 is left on the server: drop it by hand\): the administrator 'maker' lacks a privilege/);
    const left = await probesLeft();
    expect(left).toEqual([{ name: maker.message.match(/ocim_check_[0-9a-f]{8}/)![0] }]);
    await admin.query(`DROP DATABASE ${left[0]!.name}`);
    await admin.query("DROP USER 'looker'@'%', 'weak'@'%', 'maker'@'%'");
  });

  it("names the privilege the administrator lacks, and never a user's password", async () => {
    await admin.query("CREATE USER 'weak'@'%' IDENTIFIED BY 'weak-password'");
    await admin.query("GRANT CREATE, DROP ON *.* TO 'weak'@'%'");
    const plan = planFor("weak");
    const err = await failure(make({}, { username: "weak", password: "weak-password" }).ensure(plan));
    expect(err.message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${server.port}: could not create user ${plan.mysql.users[0]!.name}: the administrator 'weak' lacks a privilege: .*CREATE USER`));
    expect(err.transient).toBe(false);
    for (const u of plan.mysql.users) expect(err.message).not.toContain(u.password);

    // CREATE USER and GRANT OPTION alone: GRANT ALL needs the privileges it hands out.
    await admin.query("GRANT CREATE USER ON *.* TO 'weak'@'%' WITH GRANT OPTION");
    const grant = await failure(make({}, { username: "weak", password: "weak-password" }).ensure(plan));
    expect(grant.message).toMatch(/could not grant user .* all privileges on weak_edxapp: the administrator 'weak' lacks a privilege: Access denied .* \(to grant ALL on a database, the administrator needs every database-level privilege on it/);
    await adapter.drop(plan);
  });

  it("needs no global-only privilege (SUPER, RELOAD…): what a managed service's master user has is enough", async () => {
    await admin.query("CREATE USER 'managed'@'%' IDENTIFIED BY 'managed-password'");
    await admin.query(
      "GRANT CREATE USER, SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, " +
        "CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, EVENT, TRIGGER, DELETE HISTORY ON *.* TO 'managed'@'%' WITH GRANT OPTION",
    );
    const managed = make({}, { username: "managed", password: "managed-password" });
    expect(await managed.check()).toEqual({ version: expect.stringMatching(/MariaDB/) });
    expect(await probesLeft()).toEqual([]);
    const plan = planFor("managed");
    expect((await managed.ensure(plan)).every((s) => s.status === "exists")).toBe(true);
    expect((await managed.inspect(plan)).every((s) => s.status === "exists")).toBe(true);
    expect((await managed.drop(plan)).every((s) => s.status === "exists")).toBe(true);
  });
});

/** A CA and a server certificate for 127.0.0.1 signed by it, made with openssl in `dir`. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Ocim test CA");
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
  return { ca: path.join(dir, "ca.pem"), cert: path.join(dir, "server.pem"), key: path.join(dir, "server.key") };
}

describe("MySQL adapter over TLS", () => {
  let dir: string;
  let server: MariadbServer;
  let caPem: string;
  const make = (settings: Record<string, unknown>) =>
    createMysqlAdapter(
      mysqlSettingsSchema.parse({ host: server.host, port: server.port, ...settings }),
      mysqlCredentialsSchema.parse({ username: "tls_only", password: "tls-password" }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-mysql-tls-"));
    const files = makeCertificates(dir);
    caPem = readFileSync(files.ca, "utf8");
    server = await startMariadbServer([`--ssl-ca=${files.ca}`, `--ssl-cert=${files.cert}`, `--ssl-key=${files.key}`]);
    const admin = await createConnection({ host: server.host, port: server.port, user: server.username, password: server.password });
    await admin.query("CREATE USER 'tls_only'@'%' IDENTIFIED BY 'tls-password' REQUIRE SSL");
    await admin.query("GRANT ALL PRIVILEGES ON *.* TO 'tls_only'@'%' WITH GRANT OPTION");
    await admin.end();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("connects over TLS, checking the server's certificate against caCert", async () => {
    expect(await make({ tls: true, caCert: caPem }).check()).toEqual({ version: expect.stringMatching(/MariaDB/) });
    // The user requires TLS: without it the same login is refused.
    const plain = await make({ tls: false }).check().catch((err: DataServiceError) => err);
    expect(plain).toBeInstanceOf(DataServiceError);
    expect((plain as DataServiceError).message).toMatch(/the login of 'tls_only' was refused/);
  });

  it("refuses a certificate that the system's CAs do not vouch for, saying TLS failed", async () => {
    const err = await make({ tls: true }).check().catch((e: DataServiceError) => e);
    expect(err).toBeInstanceOf(DataServiceError);
    expect((err as DataServiceError).message).toMatch(new RegExp(`^MySQL at 127\\.0\\.0\\.1:${server.port}: could not connect and ask its version: TLS failed: .*certificate`));
    expect((err as DataServiceError).transient).toBe(false);
  });
});
