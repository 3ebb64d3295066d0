// The MongoDB side of an instance's data (DESIGN §5b), through the official `mongodb` driver: per
// instance, its databases (the modulestore/contentstore "edxapp" and the "forum") and one user per
// database, created in that database (its authSource) with readWrite on it only.
// A DataService row of kind mongodb holds settings (plain JSON, shown in the admin area) and
// credentials (encrypted JSON, never shown); the admin form validates with these schemas too.
// Every call opens its own client and closes it, like the MySQL adapter: calls are rare (a launch, a
// page's check), and a client kept between them would keep monitoring sockets open for nothing.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { MongoClient, MongoError, MongoServerError, MongoServerSelectionError, type Db } from "mongodb";
import { DataServiceError, droppedAll, probeLeftBehind, type DataServiceAdapter, type InstanceDataPlan, type ResourceState } from "./port.js";
import { createMasker } from "../../mask-text.js";

export const mongodbSettingsSchema = z.object({
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, "a host name or IP address"),
  port: z.number().int().min(1).max(65535).default(27017),
  /** Connect over TLS, checking the server's certificate (against caCert when given, else the system's CAs). */
  tls: z.boolean().default(false),
  caCert: z.string().includes("BEGIN CERTIFICATE", { error: "a PEM certificate" }).optional(),
  /** The replica set's name, when the host is a member of one (the driver then finds the primary). */
  replicaSet: z.string().min(1).optional(),
  /** The database the administrator was created in. */
  authSource: z.string().min(1).default("admin"),
  connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
});

export const mongodbCredentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
});

export type MongodbSettings = z.infer<typeof mongodbSettingsSchema>;
export type MongodbCredentials = z.infer<typeof mongodbCredentialsSchema>;

/**
 * A database exists in MongoDB only once it holds data, so right after ensure() an empty instance
 * would be listed as "missing" until its first appserver writes, and the data panel and the
 * deprovisioning plan would say so. ensure() therefore writes one small document into this
 * collection: "exists" then means "Ocim made it", and Open edX ignores a collection it does not know.
 */
export const MARKER_COLLECTION = "ocim_marker";

// Server error codes that mean "try again later" (mongod's src/mongo/base/error_codes.yml):
// HostUnreachable, HostNotFound, NetworkTimeout, InterruptedAtShutdown, ShutdownInProgress,
// PrimarySteppedDown, NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
const TRANSIENT_CODES = new Set([6, 7, 89, 11600, 91, 189, 10107, 13435, 13436]);
const DUPLICATE_KEY = 11000;
const USER_NOT_FOUND = 11;

/** What failed, in words an operator can act on; never a password (the driver's messages carry none). */
function describe(err: unknown, settings: MongodbSettings, username: string): { reason: string; transient: boolean } {
  if (err instanceof MongoServerError) {
    if (err.code === 18) {
      return { reason: `the login of '${username}' (authSource ${settings.authSource}) was refused: wrong user name or password (${err.message})`, transient: false };
    }
    if (err.code === 13) return { reason: `the administrator '${username}' lacks a role: ${err.message}`, transient: false };
    return { reason: `${err.message} (${err.codeName ?? err.code})`, transient: TRANSIENT_CODES.has(Number(err.code)) };
  }
  const said = err instanceof Error ? err.message : String(err);
  if (/certificate|SSL|TLS|self[- ]signed/i.test(said)) return { reason: `TLS failed: ${said}`, transient: false };
  if (/ENOTFOUND/.test(said)) return { reason: `the host name ${settings.host} does not resolve`, transient: false };
  if (/ECONNREFUSED/.test(said)) return { reason: "nothing accepts connections there (connection refused)", transient: true };
  if (err instanceof MongoServerSelectionError || /timed out|ETIMEDOUT/i.test(said)) {
    return { reason: `no usable server answered within ${settings.connectTimeoutSeconds} s (${said})`, transient: true };
  }
  // Any other driver error is a network hiccup (MongoNetworkError and its kin); a bug is not.
  return { reason: said, transient: err instanceof MongoError };
}

export function createMongodbAdapter(settings: MongodbSettings, credentials: MongodbCredentials): DataServiceAdapter {
  const where = `MongoDB at ${settings.host}:${settings.port}`;
  const hostPart = settings.host.includes(":") ? `[${settings.host}]` : settings.host;

  /** Runs `work` with a client logged in as the administrator; any failure becomes a DataServiceError saying what `doing` was. */
  async function withClient<T>(doing: string, secrets: string[], work: (c: MongoClient, step: (what: string) => void) => Promise<T>): Promise<T> {
    let current = doing;
    // Credentials go in the options, not the URL, so no message the driver builds from the URL can hold them.
    const client = new MongoClient(`mongodb://${hostPart}:${settings.port}/`, {
      auth: { username: credentials.username, password: credentials.password },
      authSource: settings.authSource,
      tls: settings.tls,
      ...(settings.tls && settings.caCert ? { ca: settings.caCert } : {}),
      replicaSet: settings.replicaSet,
      appName: "ocim",
      connectTimeoutMS: settings.connectTimeoutSeconds * 1000,
      serverSelectionTimeoutMS: settings.connectTimeoutSeconds * 1000,
    });
    try {
      await client.connect();
      return await work(client, (what) => (current = what));
    } catch (err) {
      const { reason, transient } = describe(err, settings, credentials.username);
      throw new DataServiceError(createMasker([credentials.password, ...secrets])(`${where}: could not ${current}: ${reason}`), transient);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** Sizes in bytes (sizeOnDisk) of every database the administrator can list. */
  async function databaseSizes(c: MongoClient): Promise<Map<string, number>> {
    const { databases } = await c.db("admin").admin().listDatabases();
    return new Map(databases.map((d) => [d.name, Number(d.sizeOnDisk ?? 0)]));
  }

  async function userExists(db: Db, user: string): Promise<boolean> {
    const info = await db.command({ usersInfo: { user, db: db.databaseName } });
    return Array.isArray(info.users) && info.users.length > 0;
  }

  async function states(c: MongoClient, plan: InstanceDataPlan): Promise<ResourceState[]> {
    const sizes = await databaseSizes(c);
    const users: ResourceState[] = [];
    for (const { name, database } of plan.mongodb.users) {
      users.push({ kind: "user", name, status: (await userExists(c.db(database), name)) ? "exists" : "missing" });
    }
    return [
      ...plan.mongodb.databases.map(({ name }): ResourceState => sizes.has(name)
        ? { kind: "database", name, status: "exists", sizeBytes: sizes.get(name)! }
        : { kind: "database", name, status: "missing", sizeBytes: null }),
      ...users,
    ];
  }

  const passwordsOf = (plan: InstanceDataPlan) => plan.mongodb.users.map((u) => u.password);

  return {
    /**
     * Does once what ensure() and drop() do, on a database and a user of its own (`ocim_check_<8
     * hex>`), so that an administrator without the roles they need (readWrite, userAdmin and dbAdmin
     * on any database, or root) is refused when the service is saved rather than at the first launch.
     * What it made is dropped, also when a step fails; the message says when that was refused.
     */
    async check() {
      const probe = `ocim_check_${randomBytes(4).toString("hex")}`;
      const password = randomBytes(18).toString("base64url");
      return withClient("connect and ask its version", [password], async (c, step) => {
        await c.db("admin").command({ ping: 1 });
        const info = await c.db("admin").command({ buildInfo: 1 });
        step("list the databases (listDatabases)");
        await databaseSizes(c);
        const db = c.db(probe);
        const roles = [{ role: "readWrite", db: probe }];
        // The step it is at, to say it again when what it made cannot be dropped.
        let at = "";
        const stepAt = (what: string) => step((at = what));
        stepAt(`create database ${probe} (the privilege check's own)`);
        await db.collection<{ _id: string; owner: string }>(MARKER_COLLECTION).insertOne({ _id: "ocim", owner: probe });
        let userMade = false;
        try {
          stepAt(`look up user ${probe} in ${probe}`);
          await userExists(db, probe);
          stepAt(`create user ${probe} in ${probe} (the privilege check's own)`);
          await db.command({ createUser: probe, pwd: password, roles });
          userMade = true;
          stepAt(`reset user ${probe} in ${probe}`);
          await db.command({ updateUser: probe, pwd: password, roles });
        } catch (err) {
          // What this check made goes; the failure reported is the one that stopped it, and says
          // so when what it made could not go (an administrator without dbAdmin).
          const gone = await droppedAll([userMade ? () => db.command({ dropUser: probe }) : null, () => db.command({ dropDatabase: 1 })]);
          if (!gone) step(`${at}, and could not drop it again (${probeLeftBehind(probe)})`);
          throw err;
        }
        const leftBehind = probeLeftBehind(probe);
        step(`drop user ${probe} in ${probe} (${leftBehind})`);
        await db.command({ dropUser: probe });
        step(`drop database ${probe} (${leftBehind})`);
        await db.command({ dropDatabase: 1 });
        return { version: String(info.version) };
      });
    },

    async ensure(plan) {
      return withClient(`list the databases of ${plan.owner}`, passwordsOf(plan), async (c, step) => {
        const sizes = await databaseSizes(c);
        for (const { name } of plan.mongodb.databases.filter((d) => !sizes.has(d.name))) {
          step(`create database ${name}`);
          try {
            await c.db(name).collection<{ _id: string; owner: string }>(MARKER_COLLECTION).insertOne({ _id: "ocim", owner: plan.owner });
          } catch (err) {
            // Another ensure() got there first: the database exists, which is all this wanted.
            if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
          }
        }
        for (const user of plan.mongodb.users) {
          const db = c.db(user.database);
          const roles = [{ role: "readWrite", db: user.database }];
          step(`look up user ${user.name} in ${user.database}`);
          if (await userExists(db, user.name)) {
            // A user made earlier by hand, or under another master key, gets the derived password and only its role.
            step(`reset user ${user.name} in ${user.database}`);
            await db.command({ updateUser: user.name, pwd: user.password, roles });
          } else {
            step(`create user ${user.name} in ${user.database}`);
            await db.command({ createUser: user.name, pwd: user.password, roles });
          }
        }
        step(`list what exists for ${plan.owner}`);
        return states(c, plan);
      });
    },

    async inspect(plan) {
      return withClient(`list the databases and users of ${plan.owner}`, passwordsOf(plan), (c) => states(c, plan));
    },

    /** What was there is reported "exists" (and is dropped), what was already gone "missing". */
    async drop(plan) {
      return withClient(`list the databases and users of ${plan.owner}`, passwordsOf(plan), async (c, step) => {
        const before = await states(c, plan);
        // Users first: nothing logs in to a database that is going away.
        for (const { name, database } of plan.mongodb.users) {
          step(`drop user ${name} in ${database}`);
          try {
            await c.db(database).command({ dropUser: name });
          } catch (err) {
            if (!(err instanceof MongoServerError && err.code === USER_NOT_FOUND)) throw err;
          }
        }
        for (const { name } of plan.mongodb.databases) {
          step(`drop database ${name}`);
          // dropDatabase on a database that does not exist succeeds, as in mongod.
          await c.db(name).command({ dropDatabase: 1 });
        }
        return before;
      });
    },

    async close() {
      // Nothing held between calls.
    },
  };
}
