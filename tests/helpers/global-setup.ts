// Starts one real PostgreSQL and one real Redis for the whole run (under a temp dir), migrates a
// template database once; each test file then gets its own database copied from the template.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startPostgres, ensureDatabase } from "../../src/embedded/postgres.js";
import { startRedis } from "../../src/embedded/redis.js";
import { migrate } from "../../src/bin/boot.js";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-test-"));
  const { chmodSync } = await import("node:fs");
  chmodSync(dir, 0o755); // the postgres user must reach its data directory below it
  const pg = await startPostgres(dir, () => {});
  const redis = await startRedis(dir, () => {}).catch(async (err) => {
    await pg.child.stop();
    throw err;
  });
  const teardown = async () => {
    await redis.child.stop();
    await pg.child.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const adminUrl = pg.url.replace(/\/ocim$/, "/postgres");
  try {
    await ensureDatabase(adminUrl, "ocim_template");
    await migrate(pg.url.replace(/\/ocim$/, "/ocim_template"));
  } catch (err) {
    // Vitest does not call a teardown that was never returned: a migration that fails (a new one
    // with a mistake) left both servers running after the run ended.
    await teardown();
    throw err;
  }
  project.provide("pgAdminUrl", adminUrl);
  project.provide("redisUrl", redis.url);
  return teardown;
}
