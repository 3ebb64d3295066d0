// The MySQL side of an instance's data (DESIGN §5b), on MySQL or MariaDB through `mysql2`: per
// instance, its databases (utf8mb4) and one user per service, granted ALL on its own databases only.
// A DataService row of kind mysql holds settings (plain JSON, shown in the admin area) and
// credentials (encrypted JSON, never shown); the admin form validates with these schemas too.
// Every call opens its own connection and closes it: calls are rare (a launch, a page's check), and
// a connection kept between them would have to survive the server's restarts.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { escapeId } from "mysql2";
import { createConnection, type Connection, type ResultSetHeader, type RowDataPacket } from "mysql2/promise";
import { DataServiceError, droppedAll, probeLeftBehind, type DataServiceAdapter, type InstanceDataPlan, type ResourceState } from "./port.js";
import { createMasker } from "../../mask-text.js";

export const mysqlSettingsSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(3306),
  /** Connect over TLS, checking the server's certificate (against caCert when given, else the system's CAs). */
  tls: z.boolean().default(false),
  caCert: z.string().includes("BEGIN CERTIFICATE", { error: "a PEM certificate" }).optional(),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
});

export const mysqlCredentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
});

export type MysqlSettings = z.infer<typeof mysqlSettingsSchema>;
export type MysqlCredentials = z.infer<typeof mysqlCredentialsSchema>;

// The connection-level failures that may pass on a later try (mysql2 passes Node's socket codes on).
const TRANSIENT = new Set([
  "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE",
  "PROTOCOL_CONNECTION_LOST", "ER_CON_COUNT_ERROR", "ER_SERVER_SHUTDOWN", "ER_LOCK_WAIT_TIMEOUT", "ER_LOCK_DEADLOCK",
]);
// The server said the administrator may not do this: its message names the privilege.
const PRIVILEGE = new Set([
  "ER_SPECIFIC_ACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR", "ER_TABLEACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR", "ER_PROCACCESS_DENIED_ERROR", "ER_CANT_CREATE_USER_WITH_GRANT", "ER_PASSWORD_NOT_ALLOWED",
]);

type MysqlError = Error & { code?: string; sqlMessage?: string };

/** What failed, in words an operator can act on; never a password (those in `secrets` are masked). */
function describe(err: MysqlError, settings: MysqlSettings, username: string): { reason: string; transient: boolean; privilege?: boolean } {
  const code = err.code ?? "";
  const said = err.sqlMessage ?? err.message;
  if (code === "ER_ACCESS_DENIED_ERROR" || code === "ER_ACCESS_DENIED_NO_PASSWORD_ERROR") {
    return { reason: `the login of '${username}' was refused: wrong user name or password (${said})`, transient: false };
  }
  if (code === "ECONNREFUSED") return { reason: "nothing accepts connections there (connection refused)", transient: true };
  if (code === "ETIMEDOUT") return { reason: `no answer within ${settings.connectTimeoutSeconds} s (timed out)`, transient: true };
  if (code === "ENOTFOUND") return { reason: `the host name ${settings.host} does not resolve`, transient: false };
  if (code === "HANDSHAKE_NO_SSL_SUPPORT") return { reason: "TLS is on for this server, but the server does not offer TLS", transient: false };
  if (/CERT|SSL|TLS/.test(code) || err.message.includes("certificate")) return { reason: `TLS failed: ${said}`, transient: false };
  if (PRIVILEGE.has(code)) return { reason: `the administrator '${username}' lacks a privilege: ${said}`, transient: false, privilege: true };
  return { reason: code ? `${said} (${code})` : said, transient: TRANSIENT.has(code) };
}

/**
 * A database name as GRANT reads it: there `_` and `%` are wildcards (MySQL reference, "GRANT
 * Statement", Object Quoting Guidelines), so an unescaped `acme_edxapp` would also grant
 * `acmeXedxapp`, another instance's database (slug "acmex"). Escaped, it grants exactly that one.
 */
function grantTarget(database: string): string {
  return `${escapeId(database.replace(/[\\_%]/g, "\\$&"), true)}.*`;
}

const quoted = (name: string) => escapeId(name, true);

// The server says only "access denied to database": one grants only what one holds, WITH GRANT OPTION.
const GRANT_HINT = "to grant ALL on a database, the administrator needs every database-level privilege on it (e.g. ALL PRIVILEGES ON *.*) WITH GRANT OPTION";

export function createMysqlAdapter(settings: MysqlSettings, credentials: MysqlCredentials): DataServiceAdapter {
  const where = `MySQL at ${settings.host}:${settings.port}`;
  const connect = (user: string, password: string) => createConnection({
    host: settings.host, port: settings.port, user, password,
    connectTimeout: settings.connectTimeoutSeconds * 1000,
    ssl: settings.tls ? { ca: settings.caCert, rejectUnauthorized: true } : undefined,
    multipleStatements: false,
  });

  /**
   * Whether the user logs in with `password`. Asked instead of reading its stored hash, which
   * depends on its authentication plugin (MySQL 8's caching_sha2 hashes are salted).
   */
  async function logsIn(user: string, password: string): Promise<boolean> {
    try {
      await (await connect(user, password)).end();
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `work` on a new connection as the administrator; any failure becomes a DataServiceError saying what `doing` was. */
  async function withConnection<T>(
    doing: string, secrets: string[], work: (c: Connection, step: (what: string, privilegeHint?: string) => void) => Promise<T>,
  ): Promise<T> {
    let current = doing;
    let hint: string | undefined;
    let connection: Connection | undefined;
    try {
      connection = await connect(credentials.username, credentials.password);
      return await work(connection, (what, privilegeHint) => ((current = what), (hint = privilegeHint)));
    } catch (err) {
      const { reason, transient, privilege } = describe(err as MysqlError, settings, credentials.username);
      const message = `${where}: could not ${current}: ${reason}${privilege && hint ? ` (${hint})` : ""}`;
      throw new DataServiceError(createMasker([credentials.password, ...secrets])(message), transient);
    } finally {
      await connection?.end().catch(() => connection?.destroy());
    }
  }

  async function rows(c: Connection, sql: string, values: unknown[]): Promise<RowDataPacket[]> {
    const [result] = await c.query<RowDataPacket[]>(sql, values);
    return result;
  }

  /** Sizes in bytes of those of `names` that exist (0 for a database without tables). */
  async function existingDatabases(c: Connection, names: string[]): Promise<Map<string, number>> {
    if (!names.length) return new Map();
    const found = await rows(c, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)", [names]);
    const sizes = await rows(c,
      "SELECT TABLE_SCHEMA AS name, SUM(DATA_LENGTH + INDEX_LENGTH) AS size FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?) GROUP BY TABLE_SCHEMA",
      [names]);
    const sizeOf = new Map(sizes.map((r) => [String(r.name), Number(r.size ?? 0)]));
    return new Map(found.map((r) => [String(r.name), sizeOf.get(String(r.name)) ?? 0]));
  }

  async function existingUsers(c: Connection, names: string[]): Promise<Set<string>> {
    if (!names.length) return new Set();
    return new Set((await rows(c, "SELECT User AS name FROM mysql.user WHERE Host = '%' AND User IN (?)", [names])).map((r) => String(r.name)));
  }

  async function states(c: Connection, plan: InstanceDataPlan): Promise<ResourceState[]> {
    const databases = await existingDatabases(c, plan.mysql.databases.map((d) => d.name));
    const users = await existingUsers(c, plan.mysql.users.map((u) => u.name));
    return [
      ...plan.mysql.databases.map(({ name }): ResourceState => databases.has(name)
        ? { kind: "database", name, status: "exists", sizeBytes: databases.get(name)! }
        : { kind: "database", name, status: "missing", sizeBytes: null }),
      ...plan.mysql.users.map(({ name }): ResourceState => ({ kind: "user", name, status: users.has(name) ? "exists" : "missing" })),
    ];
  }

  const passwordsOf = (plan: InstanceDataPlan) => plan.mysql.users.map((u) => u.password);

  return {
    /**
     * Connects, then does once, on a database and a user of its own, what ensure(), inspect() and
     * drop() will do for every instance: create them, grant, list users, drop them. A login that may
     * connect but not do all of it (a read-only user, a missing GRANT OPTION) is refused when the
     * service is saved, naming the privilege, instead of at every launch.
     */
    async check() {
      const probe = `ocim_check_${randomBytes(4).toString("hex")}`;
      const password = randomBytes(18).toString("base64url");
      return withConnection("connect and ask its version", [password], async (c, report) => {
        const [row] = await rows(c, "SELECT VERSION() AS version", []);
        // The step it is at, to say it again when what it made cannot be dropped.
        let at: [what: string, hint?: string] = [""];
        const step = (what: string, hint?: string) => {
          at = [what, hint];
          report(what, hint);
        };
        step(`create database ${probe} (the privilege check's own)`);
        await c.query(`CREATE DATABASE ${quoted(probe)}`);
        let userMade = false;
        try {
          step(`create user ${probe} (the privilege check's own)`);
          await c.query("CREATE USER ?@'%' IDENTIFIED BY ?", [probe, password]);
          userMade = true;
          step(`grant user ${probe} all privileges on ${probe}`, GRANT_HINT);
          await c.query(`GRANT ALL PRIVILEGES ON ${grantTarget(probe)} TO ?@'%'`, [probe]);
          step("list the users (mysql.user)");
          await existingUsers(c, [probe]);
        } catch (err) {
          // What this check made goes; the failure reported is the one that stopped it, and says
          // so when what it made could not go (an administrator without DROP).
          const gone = await droppedAll([userMade ? () => c.query("DROP USER ?@'%'", [probe]) : null, () => c.query(`DROP DATABASE ${quoted(probe)}`)]);
          if (!gone) report(`${at[0]}, and could not drop it again (${probeLeftBehind(probe)})`, at[1]);
          throw err;
        }
        const leftBehind = probeLeftBehind(probe);
        step(`drop user ${probe}`, leftBehind);
        await c.query("DROP USER ?@'%'", [probe]);
        step(`drop database ${probe}`, leftBehind);
        await c.query(`DROP DATABASE ${quoted(probe)}`);
        return { version: String(row!.version) };
      });
    },

    async ensure(plan) {
      return withConnection(`create the databases of ${plan.owner}`, passwordsOf(plan), async (c, step) => {
        for (const { name } of plan.mysql.databases) {
          step(`create database ${name}`);
          await c.query(`CREATE DATABASE IF NOT EXISTS ${quoted(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
        }
        for (const user of plan.mysql.users) {
          step(`create user ${user.name}`);
          // The password goes through mysql2's escaping (CREATE USER takes no server-side parameters).
          const [created] = await c.query<ResultSetHeader>("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [user.name, user.password]);
          // One that was there (made by hand, or under another master key) gets the derived password;
          // only when it lacks it, since ALTER USER also restarts its password's age (password_last_changed).
          if (created.warningStatus > 0 && !(await logsIn(user.name, user.password))) {
            step(`set the password of user ${user.name}`);
            await c.query("ALTER USER ?@'%' IDENTIFIED BY ?", [user.name, user.password]);
          }
          for (const database of user.databases) {
            step(`grant user ${user.name} all privileges on ${database}`, GRANT_HINT);
            await c.query(`GRANT ALL PRIVILEGES ON ${grantTarget(database)} TO ?@'%'`, [user.name]);
          }
        }
        step(`list what exists for ${plan.owner}`);
        return states(c, plan);
      });
    },

    async inspect(plan) {
      return withConnection(`list the databases and users of ${plan.owner}`, passwordsOf(plan), (c) => states(c, plan));
    },

    /** What was there is reported "exists" (and is dropped), what was already gone "missing". */
    async drop(plan) {
      return withConnection(`list the databases and users of ${plan.owner}`, passwordsOf(plan), async (c, step) => {
        const before = await states(c, plan);
        // Users first: nothing logs in to a database that is going away.
        for (const { name } of plan.mysql.users) {
          step(`drop user ${name}`);
          await c.query("DROP USER IF EXISTS ?@'%'", [name]);
        }
        for (const { name } of plan.mysql.databases) {
          step(`drop database ${name}`);
          await c.query(`DROP DATABASE IF EXISTS ${quoted(name)}`);
        }
        return before;
      });
    },

    async close() {
      // Nothing held between calls.
    },
  };
}
