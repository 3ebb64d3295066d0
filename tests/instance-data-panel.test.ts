// The instance page's "Data" panel: which services hold the instance's data, each resource's
// status and size, when it was last checked; "Check now" asks the service again (audited). Real
// S3 REST server (s3rver); operators see the panel, never a credential.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { startS3Server, type S3Server } from "./helpers/s3-server.js";
import { makeInstance } from "./helpers/factories.js";
import { prepareInstanceData } from "../src/domain/data/prepare-instance-data.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { createConnection } from "mysql2/promise";
import { startMariadbServer, type MariadbServer } from "./helpers/mariadb.js";

const SECRET = "panel-secret-never-shown-7";

describe("instance page: Data panel", () => {
  let t: TestApp;
  let operator: Agent;
  let s3: S3Server;
  let mariadb: MariadbServer | undefined;
  let clock = Date.parse("2026-12-01T10:00:00Z");
  beforeAll(async () => {
    t = await startTestApp({}, { now: () => new Date(clock) });
    operator = await t.loginAs("otis");
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    await mariadb?.stop();
  });

  it("says, per kind, that without a service the data stays on each appserver", async () => {
    const instance = await makeInstance(t.deps, { name: "Island" });
    const page = visibleText((await operator.get(`/instances/${instance.id}`)).text);
    expect(page).toContain("No MySQL server: this data stays on each appserver and is lost when it is terminated.");
    // And why, with the step that turns it on (this machine has MariaDB: the tests need it).
    expect(page).toContain("MySQL is off here: no default MySQL server is configured (add one in admin › Data services, or restart Ocim: npm start records its embedded MariaDB as the default).");
    expect(page).toContain("No MongoDB server: this data stays on each appserver and is lost when it is terminated.");
    expect(page).toContain("No storage service: this data stays on each appserver and is lost when it is terminated.");
  });

  it("shows the bucket with its status, size and last check, and Check now updates it, audited", async () => {
    const service = await t.deps.db.dataService.create({
      data: { name: "Campus storage", kind: "s3", settings: s3.settings, credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify({ accessKeyId: "S3RVER", secretAccessKey: SECRET })) },
    });
    const instance = await makeInstance(t.deps, { name: "Physics", storageServiceId: service.id });
    const bucket = instanceDataPlan(t.deps.secrets, instance, []).storage.bucket;
    const before = visibleText((await operator.get(`/instances/${instance.id}`)).text);
    expect(before).toContain(`Storage: Campus storage ${s3.settings.endpoint} Nothing recorded yet: the next launch prepares it.`);

    await prepareInstanceData(t.deps, { instanceId: instance.id, say: async () => {} });
    clock += 5 * 60_000;
    const prepared = await operator.get(`/instances/${instance.id}`);
    expect(visibleText(prepared.text)).toContain(`Kind Name Status Size bucket ${bucket} exists 0 B Last checked 5 min ago`);
    expect(prepared.text).not.toContain(SECRET);
    expect(prepared.text).not.toContain(service.credentialsEncrypted);

    const sdk = new S3Client({ endpoint: s3.settings.endpoint, region: "us-east-1", forcePathStyle: true, credentials: s3.credentials });
    await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: "course.tar.gz", Body: Buffer.alloc(3 * 1024 * 1024) }));
    sdk.destroy();
    const checked = await operator.submit(`/instances/${instance.id}/check-data`, {}, `/instances/${instance.id}`);
    const text = visibleText(checked.text);
    expect(text).toContain('Checked: Storage "Campus storage": 1 bucket exists.');
    expect(text).toContain(`bucket ${bucket} exists 3.0 MiB Last checked just now`);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.data_checked", subjectId: String(instance.id) } });
    expect(audit.actorLogin).toBe("otis");

    // The service goes away: the panel says so, with what failed, instead of the last good answer.
    await s3.close();
    const failed = visibleText((await operator.submit(`/instances/${instance.id}/check-data`, {}, `/instances/${instance.id}`)).text);
    expect(failed).toContain(`Checked: Storage "Campus storage": Storage ${s3.settings.endpoint}: HeadBucket ${bucket} failed: connect ECONNREFUSED`);
    expect(failed).toContain(`bucket ${bucket} error: Storage ${s3.settings.endpoint}: HeadBucket ${bucket} failed: connect ECONNREFUSED`);
  });

  it("says on the panel, and after every Check now, which of the site's origins the bucket's CORS leaves out", async () => {
    const storage = await startS3Server();
    try {
      const service = await t.deps.db.dataService.create({
        data: { name: "Lab storage", kind: "s3", settings: storage.settings, credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify(storage.credentials)) },
      });
      const instance = await makeInstance(t.deps, { name: "Biology", storageServiceId: service.id });
      const bucket = instanceDataPlan(t.deps.secrets, instance, []).storage.bucket;
      await prepareInstanceData(t.deps, { instanceId: instance.id, say: async () => {} });
      const check = async () => visibleText((await operator.submit(`/instances/${instance.id}/check-data`, {}, `/instances/${instance.id}`)).text);
      expect(await check()).toContain('Checked: Storage "Lab storage": 1 bucket exists.');

      // A domain added after the launch that set the bucket's rules (this instance has no balancer
      // with HTTPS, so its origin is http://).
      await t.deps.db.instance.update({ where: { id: instance.id }, data: { externalDomains: ["courses.biology.test"] } });
      const gap = `CORS does not allow http://courses.biology.test: browsers on the site cannot use the bucket from there. The next launch sets the bucket's rules; a service without CORS per bucket (community MinIO) takes the origins in its own settings (mc admin config set <alias> api cors_allow_origin=…)`;
      for (const page of [await check(), await check()]) {
        expect(page).toContain(`Checked: Storage "Lab storage": 1 bucket exists; bucket ${bucket}: ${gap}.`);
        expect(page).toContain(`bucket ${bucket} exists: ${gap} 0 B Last checked just now`);
      }

      // The next launch's data step sets the rules: the panel is clear again.
      await prepareInstanceData(t.deps, { instanceId: instance.id, say: async () => {} });
      const fixed = await check();
      expect(fixed).toContain('Checked: Storage "Lab storage": 1 bucket exists.');
      expect(fixed).not.toContain("CORS does not allow");
    } finally {
      await storage.close();
    }
  });

  it("says what Check now found on MySQL in words: how many databases and users exist, and which kind is missing", async () => {
    mariadb = await startMariadbServer();
    const service = await t.deps.db.dataService.create({
      data: { name: "Campus MySQL", kind: "mysql", settings: { host: mariadb.host, port: mariadb.port }, credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify({ username: mariadb.username, password: mariadb.password })) },
    });
    const instance = await makeInstance(t.deps, { name: "Chemistry", mysqlServiceId: service.id });
    await prepareInstanceData(t.deps, { instanceId: instance.id, say: async () => {} });
    const { databases, users } = instanceDataPlan(t.deps.secrets, instance, []).mysql;
    const check = async () => visibleText((await operator.submit(`/instances/${instance.id}/check-data`, {}, `/instances/${instance.id}`)).text);
    expect(await check()).toContain(`Checked: MySQL "Campus MySQL": ${databases.length} databases and ${users.length} users exist.`);

    const admin = await createConnection({ host: mariadb.host, port: mariadb.port, user: mariadb.username, password: mariadb.password });
    await admin.query(`DROP DATABASE \`${databases[0]!.name}\``);
    await admin.end();
    expect(await check()).toContain(`Checked: MySQL "Campus MySQL": ${databases.length - 1} databases and ${users.length} users exist, 1 database is missing.`);

    // The server goes away: its error is said once for the service, not once per database and user.
    await mariadb.stop();
    const down = await check();
    const said = `MySQL at ${mariadb.host}:${mariadb.port}: could not list the databases and users of ${instance.slug}: nothing accepts connections there (connection refused)`;
    const panel = down.slice(down.indexOf("MySQL: Campus MySQL"));
    expect(panel.startsWith(`MySQL: Campus MySQL ${mariadb.host}:${mariadb.port} Could not ask this service: ${said} Kind Name Status Size database `)).toBe(true);
    expect(panel).toContain(`database ${databases[0]!.name} error `);
    expect(panel.split(said)).toHaveLength(2);
  });
});
