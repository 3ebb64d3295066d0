// Seeds a fleet for the page benchmark inside PostgreSQL (generate_series): no round trip per
// row, so 10,000 instances and 100,000 appservers take seconds. Each appserver's frozen
// configuration is made by the launch code itself (launchSnapshot), about 4 ms an instance.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parse } from "yaml";
import type { Secrets } from "../src/crypto.js";
import { createDb } from "../src/db.js";
import { launchSnapshot } from "../src/domain/appservers/launch-appserver.js";
import { newJwtKey } from "../src/domain/data/instance-secrets.js";
import { newInstanceSecret } from "../src/domain/instances/secret.js";
import { STEPS, type StepName } from "../src/domain/provisioning/steps.js";

export interface Fleet {
  instances: number;
  appServersPerInstance: number;
  /** One "instance.updated" audit event per instance, an hour apart (the admin's audit trail). */
  auditEvents?: boolean;
}

const WORDS = ["Alpha", "Bright", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iris", "Juniper",
  "Kestrel", "Lumen", "Maple", "Nova", "Orchid", "Pioneer", "Quartz", "Riverside", "Summit", "Tidal"];
const KINDS = ["Academy", "University", "College", "Institute", "Learning", "School", "Campus", "Labs"];
// How long each step took, in seconds: a Tutor launch of about 75 minutes, most of it the playbook.
const STEP_SECONDS: Record<StepName, number> = {
  "prepare-data": 5, "create-vm": 45, "wait-vm": 120, "upload-vars": 3, clone: 10, "start-playbook": 30, tail: 4200, finish: 2, "wait-heartbeat": 60,
};
const LOG_LINES = 300;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** `secrets`: the web role's (from its SECRET_KEY), so the pages can read what the seed encrypted. */
export async function seedFleet(databaseUrl: string, fleet: Fleet, secrets: Secrets): Promise<void> {
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
         "secretKeyEncrypted", "jwtKeyEncrypted", "isArchived", "updatedAt")
       SELECT w.name || ' ' || g, 'site-' || g, d.lms, 'studio.' || d.lms, 'preview.' || d.lms, 'ecommerce.' || d.lms,
         'discovery.' || d.lms, 'apps.' || d.lms,
         CASE WHEN g % 10 = 0 THEN ARRAY['www.customer-' || g || '.example.org'] ELSE '{}'::text[] END,
         'https://github.com/openedx/edx-platform.git', 'master', 'https://github.com/openedx/configuration.git', 'master',
         'playbooks/openedx_native.yml', 'ulmo', E'EDXAPP_PLATFORM_NAME: Site\\nEDXAPP_EMAIL_HOST_PASSWORD: secret\\n',
         $3, $5, g % 20 = 0, now()
       FROM generate_series(1, $1::int) g
       CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (g * 7919) % array_length($2::text[], 1)] || ' ' ||
         ($4::text[])[1 + (g * 104729) % array_length($4::text[], 1)] AS name) w
       CROSS JOIN LATERAL (SELECT 'site-' || g || '.bench.example.com' AS lms) d`,
      // One master key and one JWT key for all: an RSA key each would take minutes.
      [fleet.instances, WORDS, newInstanceSecret(secrets), KINDS, await newJwtKey(secrets)],
    );
    await freezeSnapshots(client, databaseUrl, secrets, fleet.appServersPerInstance);
    // Per instance: older ones terminated, one failed, the newest running and active (a few still configuring).
    await client.query(
      `INSERT INTO "AppServer" ("instanceId", number, name, status, "vmStatus", "providerKind", "configSnapshot",
         "isActive", "publicIp", "createdById", "createdByLogin", "createdAt", "updatedAt")
       SELECT i.id, n, 'AppServer ' || n,
         (CASE WHEN n = $1 AND i.id % 17 = 0 THEN 'configuring' WHEN n = $1 THEN 'running'
               WHEN n = $1 - 1 THEN 'failed' ELSE 'terminated' END)::"AppServerStatus",
         (CASE WHEN n >= $1 - 1 THEN 'ready' ELSE 'terminated' END)::"VmStatus",
         'local', jsonb_set(s.snapshot, '{launchedAt}', to_jsonb(to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))),
         n = $1 AND i.id % 17 <> 0,
         CASE WHEN n >= $1 - 1 THEN '10.' || (i.id / 256 % 256) || '.' || (i.id % 256) || '.' || n END,
         $2, 'bench-operator', t.at, now()
       FROM "Instance" i JOIN seed_snapshot s ON s.instance_id = i.id CROSS JOIN generate_series(1, $1::int) n
       CROSS JOIN LATERAL (SELECT now() - make_interval(days => ($1 - n) * 3, secs => i.id) AS at) t`,
      [fleet.appServersPerInstance, userId],
    );
    // Their provisioning steps, as the worker records them (src/domain/provisioning/steps.ts): all
    // done for the running and the terminated ones, the failed ones stopped at the playbook's exit
    // code, the configuring ones in the playbook's run.
    await client.query(
      `INSERT INTO "AppServerStep" ("appServerId", name, position, "startedAt", "endedAt", outcome)
       SELECT a.id, s.name, s.position, a."createdAt" + make_interval(secs => s.start), CASE WHEN NOT s.open THEN a."createdAt" + make_interval(secs => s.start + s.secs) END,
         (CASE WHEN s.open THEN NULL WHEN a.status = 'failed' AND s.name = 'finish' THEN 'failed' ELSE 'done' END)::"AppServerStepOutcome"
       FROM "AppServer" a
       CROSS JOIN LATERAL (
         SELECT t.name, t.position::int, t.secs, coalesce(sum(t.secs) OVER (ORDER BY t.position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS start,
                a.status = 'configuring' AND t.name = 'tail' AS open
         FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS t(name, secs, position)) s
       WHERE s.position <= (CASE a.status WHEN 'configuring' THEN array_position($1::text[], 'tail') WHEN 'failed' THEN array_position($1::text[], 'finish') ELSE cardinality($1::text[]) END)`,
      [STEPS.map((step) => step.name), STEPS.map((step) => STEP_SECONDS[step.name])],
    );
    await seedLogs(client, fleet.appServersPerInstance);
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
    await untilAllVisible(client, ["Instance", "AppServer", "AppServerStep", "LogEntry", "AuditEvent"]);
    // And the checkpointer: the seed's dirty pages written now, not during the measurements.
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
}

/**
 * What launch froze for each instance's newest appserver (launchSnapshot: its settings, recipe and
 * variables), into the temporary table seed_snapshot(instance_id, snapshot) that the appserver
 * insert reads. Its older appservers get the same, with their own launch time: the settings did not
 * change between launches (only the VM's host name in the variables would).
 */
async function freezeSnapshots(client: pg.Client, databaseUrl: string, secrets: Secrets, newest: number): Promise<void> {
  await client.query("CREATE TEMPORARY TABLE seed_snapshot (instance_id int PRIMARY KEY, snapshot jsonb NOT NULL)");
  const db = createDb(databaseUrl, { max: 2 });
  // No balancer serves the bench fleet: its snapshots are those of an HTTP-only site.
  const deps = { secrets, now: () => new Date(), config: { ACME_DIRECTORY_URL: "", LB_HTTP_PORT: 80, LB_HTTPS_PORT: 443 } };
  try {
    for (let after = 0; ; ) {
      const instances = await db.instance.findMany({ where: { id: { gt: after } }, orderBy: { id: "asc" }, take: 500 });
      if (instances.length === 0) return;
      const snapshots = [];
      for (const instance of instances) snapshots.push(JSON.stringify(await launchSnapshot(db, deps, instance, newest)));
      await client.query("INSERT INTO seed_snapshot SELECT * FROM unnest($1::int[], $2::jsonb[])", [instances.map((i) => i.id), snapshots]);
      after = instances.at(-1)!.id;
    }
  } finally {
    await db.$disconnect();
  }
}

/**
 * The newest appserver's playbook log, as ansible prints it (the tasks of playbooks/tutor/site.yml
 * over and over): LOG_LINES lines, more than the appserver page's tail (PAGE_TAIL_LINES), so the page
 * reads it as it reads any longer log (its index finds the last lines and the first as fast).
 */
async function seedLogs(client: pg.Client, newest: number): Promise<void> {
  const play = parse(await readFile(path.join(root, "playbooks/tutor/site.yml"), "utf8")) as { name: string; tasks: { name: string }[] }[];
  const tasks = play.flatMap((p) => p.tasks.map((t) => t.name));
  await client.query(
    `WITH a AS MATERIALIZED (SELECT id, "createdAt", "configSnapshot" -> 'variables' ->> 'OCIM_HOSTNAME' AS host FROM "AppServer" WHERE number = $1)
     INSERT INTO "LogEntry" ("appServerId", seq, level, text, "createdAt")
     SELECT a.id, k, 'info',
       CASE (k - 1) % 3 WHEN 0 THEN '' WHEN 1 THEN 'TASK [' || ($2::text[])[1 + ((k - 1) / 3) % cardinality($2::text[])] || '] ' || repeat('*', 40)
         ELSE (CASE WHEN k % 2 = 0 THEN 'ok: [' ELSE 'changed: [' END) || a.host || ']' END,
       a."createdAt" + make_interval(secs => k)
     FROM a CROSS JOIN generate_series(1, $3::int) k`,
    [newest, tasks, LOG_LINES],
  );
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
