// A throwaway database migrated up to (not including) one migration, for tests of what that
// migration does to rows in the old shape: apply() runs a migration's SQL as `prisma migrate deploy`
// would, later() lists the migrations after it. useDatabaseBefore is the set-up of a test file.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { ensureDatabase } from "../../src/embedded/postgres.js";

const MIGRATIONS = path.resolve("prisma/migrations");
const folders = () => readdirSync(MIGRATIONS).filter((f) => /^\d{14}_/.test(f)).sort();

export interface MigrationDb {
  url: string;
  client: pg.Client;
  /** Inserts an instance with only what every migration's Instance requires: `slug`.test as its LMS domain. */
  insertInstance(name: string, slug: string): Promise<unknown>;
  apply(folder: string): Promise<unknown>;
  /** The migrations after `folder`, in order. */
  later(folder: string): string[];
  drop(): Promise<void>;
}

async function databaseBefore(adminUrl: string, migration: string): Promise<MigrationDb> {
  const name = `ocim_m_${randomBytes(6).toString("hex")}`;
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  await ensureDatabase(adminUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const apply = (folder: string) => client.query(readFileSync(path.join(MIGRATIONS, folder, "migration.sql"), "utf8"));
  for (const f of folders().filter((f) => f < migration)) await apply(f);
  const insertInstance = (instanceName: string, slug: string) => client.query(
    `INSERT INTO "Instance" (name, slug, "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain", "discoveryDomain", "appsDomain",
       "edxPlatformRepoUrl", "edxPlatformBranch", "configurationRepoUrl", "configurationBranch", "playbookPath", "openedxRelease", "secretKeyEncrypted", "updatedAt")
     VALUES ($1, $2, $2 || '.test', 'studio.' || $2, 'preview.' || $2, 'ecommerce.' || $2, 'discovery.' || $2, 'apps.' || $2, '', '', '', '', '', '', 'x', now())`,
    [instanceName, slug],
  );
  return {
    url, client, apply, insertInstance,
    later: (folder) => folders().filter((f) => f > folder),
    async drop() {
      await client.end();
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * The database before `migration` for the tests of the enclosing describe block (on the test
 * PostgreSQL): made before them, dropped after them. Returns its getter, for use inside the tests.
 */
export function useDatabaseBefore(migration: string): () => MigrationDb {
  let m: MigrationDb | undefined;
  beforeAll(async () => {
    m = await databaseBefore(inject("pgAdminUrl"), migration);
  });
  afterAll(async () => m?.drop());
  return () => {
    if (!m) throw new Error(`the database before ${migration} is not made yet: call its getter inside a test`);
    return m;
  };
}
