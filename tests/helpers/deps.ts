// Real Deps for a test file: its own PostgreSQL database (from the migrated template) and the
// shared real Redis. Settings go through loadConfig, as in production.
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { createDeps, closeDeps, type Deps } from "../../src/deps.js";
import { ensureDatabase } from "../../src/embedded/postgres.js";

export interface TestDeps extends Deps {
  databaseUrl: string;
  redisUrl: string;
  close(): Promise<void>;
}

export const TEST_SECRET_KEY = "test-secret-key-test-secret-key-0123456789";
/** LOCAL_LB_DIR of every test: local balancers' files go in temp dirs under it (helpers/lb.ts). Short, for haproxy's socket path. */
export const TEST_LB_DIR = path.join(os.tmpdir(), "ocim-lb");

export function testConfig(env: Record<string, string | undefined> = {}): Config {
  // Tests read the sidebar right after changing instances: no reuse, except where a test asks for it.
  return loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: TEST_SECRET_KEY, PORT: "0", SIDEBAR_CACHE_MS: "0", LOCAL_LB_DIR: TEST_LB_DIR, ...env });
}

export async function createTestDeps(env: Record<string, string | undefined> = {}, overrides: Partial<Deps> = {}): Promise<TestDeps> {
  const adminUrl = inject("pgAdminUrl");
  const name = `ocim_t_${randomBytes(6).toString("hex")}`;
  await ensureDatabase(adminUrl, name, "ocim_template");
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${name}`);
  const redisUrl = env.REDIS_URL ?? inject("redisUrl"); // a test may bring a Redis of its own (to stop it)
  const config = testConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, QUEUE_PREFIX: `ocimtest-${name}`, ...env });
  // The host's OS unknown unless a test gives one: what launches on the local provider must not
  // depend on the machine the tests run on (recipes/recipe-os.ts).
  const deps = createDeps(config, { databaseUrl, redisUrl, secretKey: TEST_SECRET_KEY }, { hostOs: null, ...overrides });
  return {
    ...deps,
    databaseUrl,
    redisUrl,
    async close() {
      await closeDeps(deps);
      const { default: pg } = await import("pg");
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
