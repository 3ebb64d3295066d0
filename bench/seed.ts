// Seeds a fleet for the page benchmark inside PostgreSQL (generate_series): no round trip per
// row, so 10,000 instances and 100,000 appservers take seconds.
import pg from "pg";

export interface Fleet {
  instances: number;
  appServersPerInstance: number;
  /** One "instance.updated" audit event per instance, an hour apart (the admin's audit trail). */
  auditEvents?: boolean;
}

const WORDS = ["Alpha", "Bright", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
  "Kestrel", "Lumen", "Maple", "Nova", "Orchid", "Pioneer", "Quartz", "Riverside", "Summit", "Tidal"];
const KINDS = ["Academy", "University", "College", "Institute", "Learning", "School", "Campus", "Labs"];

export async function seedFleet(databaseUrl: string, fleet: Fleet, secretKeyEncrypted: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const user = await client.query<{ id: number }>(
      `INSERT INTO "User" ("githubLogin", name, role, "updatedAt") VALUES ('bench-operator', 'Bench', 'admin', now()) RETURNING id`,
    );
    const userId = user.rows[0]!.id;
    // Names like "Cedar Institute 4711", in no particular order, so sorting by name does real work;
    // one in 20 archived, one in 10 with an external domain. The default recipe (tutor) with a release
    // it installs, so the admin form saves a seeded instance unchanged.
    await client.query(
      `INSERT INTO "Instance" (name, slug, "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain",
         "discoveryDomain", "appsDomain", "externalDomains", "edxPlatformRepoUrl", "edxPlatformBranch",
         "configurationRepoUrl", "configurationBranch", "playbookPath", "openedxRelease", "extraAnsibleVars",
         "secretKeyEncrypted", "isArchived", "updatedAt")
       SELECT w.name || ' ' || g, 'site-' || g, d.lms, 'studio.' || d.lms, 'preview.' || d.lms, 'ecommerce.' || d.lms,
         'discovery.' || d.lms, 'apps.' || d.lms,
         CASE WHEN g % 10 = 0 THEN ARRAY['www.customer-' || g || '.example.org'] ELSE '{}'::text[] END,
         'https://github.com/openedx/edx-platform.git', 'master', 'https://github.com/openedx/configuration.git', 'master',
         'playbooks/openedx_native.yml', 'ulmo', E'EDXAPP_PLATFORM_NAME: Site\\nEDXAPP_EMAIL_HOST_PASSWORD: secret\\n',
         $3, g % 20 = 0, now()
       FROM generate_series(1, $1::int) g
       CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (g * 7919) % array_length($2::text[], 1)] || ' ' ||
         ($4::text[])[1 + (g * 104729) % array_length($4::text[], 1)] AS name) w
       CROSS JOIN LATERAL (SELECT 'site-' || g || '.bench.example.com' AS lms) d`,
      [fleet.instances, WORDS, secretKeyEncrypted, KINDS],
    );
    // Per instance: older ones terminated, one failed, the newest running and active (a few still configuring).
    await client.query(
      `INSERT INTO "AppServer" ("instanceId", number, name, status, "vmStatus", "providerKind", "configSnapshot",
         "isActive", "publicIp", "createdById", "createdByLogin", "createdAt", "updatedAt")
       SELECT i.id, n, 'AppServer ' || n,
         (CASE WHEN n = $1 AND i.id % 17 = 0 THEN 'configuring' WHEN n = $1 THEN 'running'
               WHEN n = $1 - 1 THEN 'failed' ELSE 'terminated' END)::"AppServerStatus",
         (CASE WHEN n >= $1 - 1 THEN 'ready' ELSE 'terminated' END)::"VmStatus",
         'local', '{}'::jsonb, n = $1 AND i.id % 17 <> 0,
         CASE WHEN n >= $1 - 1 THEN '10.' || (i.id / 256 % 256) || '.' || (i.id % 256) || '.' || n END,
         $2, 'bench-operator', now() - make_interval(days => ($1 - n) * 3, secs => i.id), now()
       FROM "Instance" i CROSS JOIN generate_series(1, $1::int) n`,
      [fleet.appServersPerInstance, userId],
    );
    await client.query(`UPDATE "Instance" SET "nextAppServerNumber" = $1 + 1`, [fleet.appServersPerInstance]);
    if (fleet.auditEvents) {
      // In the shape the console writes ({ field: [before, after] }: diffRecords).
      await client.query(
        `INSERT INTO "AuditEvent" ("actorId", "actorLogin", action, "subjectType", "subjectId", "subjectName", diff, "createdAt")
         SELECT $1, 'bench-operator', 'instance.updated', 'Instance', i.id::text, i.name,
                jsonb_build_object('openedxRelease', jsonb_build_array('palm', 'quince')), now() - make_interval(hours => i.id)
         FROM "Instance" i`,
        [userId],
      );
    }
    // What autovacuum would have done by now: statistics, and the visibility map for index-only scans.
    await client.query("VACUUM ANALYZE");
    await untilAllVisible(client, ["Instance", "AppServer", "AuditEvent"]);
    // And the checkpointer: the seed's dirty pages written now, not during the measurements.
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
}

/**
 * VACUUM until every page of `tables` is marked all-visible. An autovacuum worker's ANALYZE that
 * starts during the inserts holds a snapshot older than them, and a VACUUM meanwhile cannot mark
 * their pages (seen on 2026-12-02: Instance half marked, AppServer not at all). Then every count and
 * index-only scan of the benchmark visited the table as well: the admin change list's count read all
 * 10,000 instance rows (215 req/s on one web process against 327 with the map set).
 */
async function untilAllVisible(client: pg.Client, tables: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const { rows } = await client.query<{ name: string; pages: number; visible: number }>(
      `SELECT relname AS name, relpages AS pages, relallvisible AS visible FROM pg_class WHERE relname = ANY($1::text[]) AND relkind = 'r'`,
      [tables],
    );
    const behind = rows.filter((r) => r.visible < r.pages);
    if (behind.length === 0) return;
    if (attempt > 50) throw new Error(`VACUUM left pages not all-visible: ${behind.map((r) => `${r.name} ${r.visible}/${r.pages}`).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.query(`VACUUM ${behind.map((r) => `"${r.name}"`).join(", ")}`);
  }
}
