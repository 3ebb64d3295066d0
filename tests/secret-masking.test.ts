// Secrets are masked by their values wherever they would show (docs/security.md, "What is secret,
// and where it is masked"): real Open edX secret settings, a token in the bootstrap command and the
// generated basic-auth password never reach an operator's page, the API, a stored log line, an
// audit diff or a job payload; an admin sees them only through an audited reveal.
import { drainOutbox } from "../src/jobs/relay-outbox.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { decodeHtml, visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { readSnapshot } from "../src/domain/appservers/config-snapshot.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { createInstance } from "../src/domain/instances/create-instance.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { updateInstance } from "../src/domain/instances/update-instance.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { createRunLog } from "../src/domain/provisioning/run-log.js";
import { snapshotSecrets } from "../src/domain/secrets/instance-secrets.js";
import { createMasker, MASK } from "../src/domain/secrets/mask-secrets.js";
import { createUrlMasker, maskUrl } from "../src/mask-text.js";
import { isSecretKey, OPENEDX_SECRET_NAMES } from "../src/domain/secrets/secret-keys.js";
import { JOB, JOB_QUEUE } from "../src/jobs/names.js";
import { PAYLOADS } from "../src/jobs/payloads.js";

const TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ4567wxyz";
const BOOTSTRAP = `pip install -r requirements.txt && git clone https://${TOKEN}@github.com/example/private-theme.git`;
const EXTRA_VARS = `EDXAPP_PLATFORM_NAME: Secret U
EDXAPP_LMS_BASE: lms.secret-u.test
EDXAPP_FERNET_KEYS:
  - fernet-one-QmFzZTY0RmVybmV0S2V5T25l=
  - fernet-two-QmFzZTY0RmVybmV0S2V5VHdv=
EDXAPP_JWT_PRIVATE_SIGNING_JWK: '{"kty": "RSA", "kid": "jwk-kid-77", "d": "jwk-private-exponent-d-91", "p": "jwk-prime-p-4417"}'
EDXAPP_SOCIAL_AUTH_OAUTH_SECRETS:
  azuread-oauth2: oauth-azure-secret-5150
  google-oauth2: oauth-google-secret-8080
EDXAPP_XQUEUE_BASIC_AUTH: [xqueue-user-lms, xqueue-pass-3141]
EDXAPP_CREDIT_PROVIDER_SECRET_KEYS:
  asu: credit-asu-key-2718
`;
const SECRETS = [
  TOKEN, "fernet-one-QmFzZTY0RmVybmV0S2V5T25l=", "fernet-two-QmFzZTY0RmVybmV0S2V5VHdv=", "jwk-private-exponent-d-91",
  "jwk-prime-p-4417", "oauth-azure-secret-5150", "oauth-google-secret-8080", "xqueue-pass-3141", "credit-asu-key-2718",
];

function expectNoSecret(text: string, where: string, secrets: readonly string[] = SECRETS): void {
  const leaked = secrets.filter((s) => text.includes(s));
  expect(leaked, `secrets shown in ${where}`).toEqual([]);
}

/** The fields of an admin form as a browser would send them back untouched. */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<textarea[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) fields[m[1]!] = decodeHtml(m[2]!).replace(/\n/g, "\r\n");
  for (const m of html.matchAll(/<input type="text"[^>]*name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = decodeHtml(m[2]!);
  for (const m of html.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) fields[m[1]!] = m[2]!.match(/<option value="([^"]*)" selected/)?.[1] ?? "";
  return fields;
}

describe("which names hold secrets", () => {
  const known = new Set(
    ["data/openedx-configuration-vars.tsv", "data/tutor-config-keys.tsv"].flatMap((f) =>
      readFileSync(path.resolve(f), "utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0])),
  );

  it("finds the Open edX secrets that a suffix rule missed, at any depth and in any spelling", () => {
    for (const name of ["EDXAPP_FERNET_KEYS", "EDXAPP_JWT_PRIVATE_SIGNING_JWK", "EDXAPP_SOCIAL_AUTH_OAUTH_SECRETS", "EDXAPP_XQUEUE_BASIC_AUTH",
      "EDXAPP_CREDIT_PROVIDER_SECRET_KEYS", "EDXAPP_MYSQL_PASSWORD_ADMIN", "EDXAPP_SOCIAL_AUTH_SAML_SP_PRIVATE_KEY_DICT", "EDXAPP_RETIRED_USER_SALTS",
      "JWT_RSA_PRIVATE_KEY", "COMMON_HTPASSWD_PASS", "client_secret", "clientSecret", "apiKey", "password", "access-token"]) {
      expect(isSecretKey(name), name).toBe(true);
    }
  });

  it("leaves harmless names alone", () => {
    for (const name of ["EDXAPP_LMS_BASE", "COMMON_HTPASSWD_USER", "EDXAPP_ACE_ROUTING_KEY", "EDXAPP_BULK_EMAIL_ROUTING_KEY_SMALL_JOBS",
      "COMMON_JWT_PUBLIC_SIGNING_JWK_SET", "EDXAPP_AWS_ACCESS_KEY_ID", "authorized_keys", "MFE_ACCESS_TOKEN_COOKIE_NAME",
      "EDXAPP_PASSWORD_RESET_SUPPORT_LINK", "EDXAPP_SESSION_COOKIE_NAME", "MYSQL_APT_KEY", "keyboard", "EDXAPP_PLATFORM_NAME"]) {
      expect(isSecretKey(name), name).toBe(false);
    }
  });

  it("lists only real Open edX names", () => {
    expect(known.size).toBeGreaterThan(3800);
    expect(OPENEDX_SECRET_NAMES.filter((n) => !known.has(n))).toEqual([]);
  });

  it("masks each known value inside longer text, longest first, in one pass", () => {
    const mask = createMasker(["abcd-secret", "abcd-secret-longer"]);
    expect(mask("a=abcd-secret-longer b=abcd-secret xabcd-secretx")).toBe(`a=${MASK} b=${MASK} x${MASK}x`);
  });

  it("masks a short value only where it stands alone, not inside longer words and numbers", () => {
    const mask = createMasker(["e", "127", "ß"]);
    expect(mask("could not connect to 127.0.0.1:1 e.g. by e-mail; Straße")).toBe("could not connect to 127.0.0.1:1 e.g. by e-mail; Straße");
    expect(mask("user e, pin 127. (e) password=e [ß]")).toBe(`user ${MASK}, pin ${MASK}. (${MASK}) password=${MASK} [${MASK}]`);
  });
});

describe("a URL whose path, query or user name is its secret (a webhook's)", () => {
  it("is shown as its origin and •••••• for the rest, whole when nothing follows the origin", () => {
    expect(maskUrl("https://hooks.slack.com/services/T1/B2/XXXXSLACKSECRET")).toBe(`https://hooks.slack.com/${MASK}`);
    expect(maskUrl("http://user:pw@127.0.0.1:1/x/secret?t=1")).toBe(`http://127.0.0.1:1/${MASK}`);
    expect(maskUrl("https://hooks.example.com/?token=abc")).toBe(`https://hooks.example.com/${MASK}`);
    expect(maskUrl("https://user@hooks.example.com/")).toBe(`https://hooks.example.com/${MASK}`);
    expect(maskUrl("https://hooks.example.com")).toBe("https://hooks.example.com/");
    expect(maskUrl("not a url")).toBe(MASK);
  });

  it("is masked in any text about it, every URL to its origin, its pieces wherever they are echoed, plain words kept", () => {
    const mask = createUrlMasker("https://user:pa55word@hooks.example.com/services/T1/B2/XXXXSLACKSECRET?token=qwerty123&v=2");
    expect(mask("Request cannot be constructed from a URL that includes credentials: https://user:pa55word@hooks.example.com/services/T1/B2/XXXXSLACKSECRET?token=qwerty123&v=2"))
      .toBe(`Request cannot be constructed from a URL that includes credentials: https://hooks.example.com/${MASK}`);
    expect(mask("POST https://hooks.example.com/services/x. answered 404: Cannot POST /services/T1/B2/XXXXSLACKSECRET?token=qwerty123&v=2"))
      .toBe(`POST https://hooks.example.com/${MASK}. answered 404: Cannot POST ${MASK}`);
    expect(mask("no_service: XXXXSLACKSECRET, token qwerty123, user:pa55word@, pa55word")).toBe(`no_service: ${MASK}, token ${MASK}, ${MASK}, ${MASK}`);
    // The words of a path and a plain user name are not secrets: the sentences around them stay readable.
    expect(mask("the webhook user services answered")).toBe("the webhook user services answered");
    expect(createUrlMasker(null)("see https://other.example.com/a/b?c=d (docs)")).toBe(`see https://other.example.com/${MASK} (docs)`);
    // A URL with nothing after its origin has nothing to hide.
    expect(createUrlMasker("https://hooks.example.com/")("POST https://hooks.example.com/ failed: ECONNREFUSED.")).toBe("POST https://hooks.example.com/ failed: ECONNREFUSED.");
  });
});

describe("secrets of a real Open edX instance", () => {
  let t: TestApp;
  let admin: Agent;
  let operator: Agent;
  let instance: Awaited<ReturnType<typeof makeInstance>>;
  let password: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("adele", { admin: true });
    operator = await t.loginAs("oscar");
    instance = await makeInstance(t.deps, { name: "Secret U", extraAnsibleVars: EXTRA_VARS, bootstrapCommand: `${BOOTSTRAP}\n` }); // as the form stores it
    ({ password } = basicAuthFor(t.deps.secrets, instance));
  });
  afterAll(() => t.close());

  it("are masked on the instance page, for operators and admins alike, harmless values kept", async () => {
    for (const agent of [operator, admin]) {
      const page = await agent.get(`/instances/${instance.id}`);
      expect(page.status).toBe(200);
      const text = visibleText(page.text);
      expectNoSecret(text, "the instance page");
      expect(text).toContain("EDXAPP_LMS_BASE: lms.secret-u.test");
      expect(text).toContain(`EDXAPP_FERNET_KEYS: - ${MASK} - ${MASK}`);
      expect(text).toContain(`EDXAPP_XQUEUE_BASIC_AUTH: [ ${MASK}, ${MASK} ]`);
      expect(text).toContain(`Bootstrap command pip install -r requirements.txt && git clone https://${MASK}@github.com/example/private-theme.git`);
    }
    expect((await operator.get(`/instances/${instance.id}`)).text).not.toContain("Reveal secrets");
    expect((await admin.get(`/instances/${instance.id}`)).text).toContain("Reveal secrets");
  });

  it("are masked in the API", async () => {
    const token = (await createApiToken(t.deps, { githubLogin: "oscar", actor: { id: null, login: "t" } })).token;
    const reply = await t.agent().get(`/api/v1/instances/${instance.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(200);
    expectNoSecret(reply.text, "the API");
    expect(reply.json<{ settings: { bootstrapCommand: string } }>().settings.bootstrapCommand).toContain(`https://${MASK}@github.com`);
  });

  it("are masked on the appserver page, the generated password too, and never enter a job payload", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } });
    const text = visibleText((await operator.get(`/appservers/${as.id}`)).text);
    expectNoSecret(text, "the appserver page", [...SECRETS, password]);
    expect(text).toContain("EDXAPP_LMS_BASE: lms.secret-u.test");

    await drainOutbox(t.deps);
    const job = await t.deps.jobs.queue(JOB_QUEUE[JOB.provisionAppServer]).getJob(`provision-${as.id}`);
    expect(job?.data).toEqual({ appServerId: as.id });
    // Every job's payload schema admits ids (and flags) only, nothing that could carry a secret.
    for (const [name, schema] of Object.entries(PAYLOADS)) {
      for (const [field, type] of Object.entries((schema as z.ZodObject).shape)) {
        const inner = type instanceof z.ZodNullable ? type.unwrap() : type;
        expect(inner instanceof z.ZodNumber || inner instanceof z.ZodBoolean, `${name}.${field}`).toBe(true);
      }
    }
  });

  it("are masked in stored log lines when the playbook echoes them, inside longer lines", async () => {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } });
    const snapshot = readSnapshot((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).configSnapshot);
    // The same run log, with the same secrets, that the provisioning job writes through.
    const log = createRunLog(t.deps, as.id, snapshotSecrets(snapshot));
    await log.info(`Running the bootstrap command: ${BOOTSTRAP}`);
    await log.appendPlaybook([
      `fatal: could not read from 'https://${TOKEN}@github.com/example/private-theme.git'`,
      "ok: [localhost] => (item=['fernet-one-QmFzZTY0RmVybmV0S2V5T25l=', 'fernet-two-QmFzZTY0RmVybmV0S2V5VHdv='])",
      "changed: [localhost] => {'kty': 'RSA', 'kid': 'jwk-kid-77', 'd': 'jwk-private-exponent-d-91', 'p': 'jwk-prime-p-4417'}",
      "ok: [localhost] => (item={'key': 'azuread-oauth2', 'value': 'oauth-azure-secret-5150'}) google=oauth-google-secret-8080",
      "XQUEUE_INTERFACE: {'basic_auth': ['xqueue-user-lms', 'xqueue-pass-3141']} credit=credit-asu-key-2718",
      `htpasswd -b /etc/nginx/htpasswd user ${password}`,
      "PLAY RECAP localhost : ok=5 changed=2 failed=0",
    ], [100, 200, 300, 400, 500, 600, 700]);
    await log.close();
    const rows = await t.deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
    expect(rows).toHaveLength(8);
    expectNoSecret(rows.map((r) => r.text).join("\n"), "stored log lines", [...SECRETS, password]);
    expect(rows[7]!.text).toBe("PLAY RECAP localhost : ok=5 changed=2 failed=0");
    expect(rows[2]!.text).toBe(`ok: [localhost] => (item=['${MASK}', '${MASK}'])`);
  });

  it("are masked in audit diffs, a changed secret shown as changed", async () => {
    const rotated = EXTRA_VARS.replace("fernet-two-QmFzZTY0RmVybmV0S2V5VHdv=", "fernet-new-QmFzZTY0RmVybmV0S2V5TmV3=");
    const newToken = "ghp_ZYXWVUTSRQponmlkjihg9876543210abcd";
    await updateInstance(t.deps, { actor: { id: null, login: "adele" }, id: instance.id, values: { extraAnsibleVars: rotated, bootstrapCommand: BOOTSTRAP.replace(TOKEN, newToken) } });
    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "Instance", subjectId: String(instance.id) } });
    expectNoSecret(JSON.stringify(events), "audit events", [...SECRETS, "fernet-new-QmFzZTY0RmVybmV0S2V5TmV3=", newToken]);
    const diff = events.find((e) => e.action === "instance.updated")!.diff as Record<string, [string, string]>;
    expect(diff.extraAnsibleVars![1]).toContain(`  - ${MASK}\n  - ${MASK} (changed)\n`);
    expect(diff.bootstrapCommand![1]).toContain(`https://${MASK} (changed)@github.com`);
    await updateInstance(t.deps, { actor: { id: null, login: "adele" }, id: instance.id, values: { extraAnsibleVars: EXTRA_VARS, bootstrapCommand: BOOTSTRAP } });
  });

  it("are masked in the admin change form, and kept as they were when the form is saved", async () => {
    const page = await admin.get(`/admin/instances/${instance.id}`);
    expect(page.status).toBe(200);
    expectNoSecret(decodeHtml(page.text), "the admin change form");
    const fields = formFields(page.text);
    expect(fields.extraAnsibleVars).toContain(`EDXAPP_FERNET_KEYS:\r\n  - ${MASK}`);

    // Saved as shown: nothing changes.
    await admin.submit(`/admin/instances/${instance.id}`, fields, `/admin/instances/${instance.id}`);
    let stored = await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    expect([stored.extraAnsibleVars, stored.bootstrapCommand]).toEqual([EXTRA_VARS, `${BOOTSTRAP}\n`]);

    // One harmless value edited, one secret typed over, the other masks left: those secrets are kept.
    const edited = {
      ...fields,
      extraAnsibleVars: fields.extraAnsibleVars!.replace("lms.secret-u.test", "lms2.secret-u.test").replace(`asu: ${MASK}`, "asu: credit-asu-key-NEW"),
      bootstrapCommand: fields.bootstrapCommand!.replace("pip install", "pip3 install"),
    };
    const reply = await admin.submit(`/admin/instances/${instance.id}`, edited, `/admin/instances/${instance.id}`);
    expect(reply.status).toBe(200);
    stored = await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(stored.bootstrapCommand).toBe(`${BOOTSTRAP.replace("pip install", "pip3 install")}\n`);
    const vars = parseYaml(stored.extraAnsibleVars) as Record<string, unknown>;
    const expected = parseYaml(EXTRA_VARS) as Record<string, unknown>;
    expect(vars).toEqual({ ...expected, EDXAPP_LMS_BASE: "lms2.secret-u.test", EDXAPP_CREDIT_PROVIDER_SECRET_KEYS: { asu: "credit-asu-key-NEW" } });

    // A mask where nothing was saved cannot stand for anything: refused next to the field, nothing changed.
    const refused = await admin.submit(`/admin/instances/${instance.id}`, { ...fields, extraAnsibleVars: `${fields.extraAnsibleVars}\r\nNEW_API_KEY: ${MASK}` }, `/admin/instances/${instance.id}`);
    expect(refused.status).toBe(400);
    expect(visibleText(refused.text)).toContain(`NEW_API_KEY: no saved value to keep there; leave each ${MASK} as shown to keep its value, or type the new value over it.`);
    expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } })).extraAnsibleVars).toBe(stored.extraAnsibleVars);
    await t.deps.db.instance.update({ where: { id: instance.id }, data: { extraAnsibleVars: EXTRA_VARS, bootstrapCommand: `${BOOTSTRAP}\n` } });
  });

  it("are shown to an admin who reveals them, and the reveal is audited without them", async () => {
    const page = await admin.submit(`/instances/${instance.id}/reveal-secrets`, {}, `/instances/${instance.id}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    const text = visibleText(page.text);
    for (const secret of SECRETS) expect(text).toContain(secret);
    expect(text).toContain("your reveal was recorded in the audit log");
    const event = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.secrets_revealed", subjectId: String(instance.id) } });
    expect(event.actorLogin).toBe("adele");
    expectNoSecret(JSON.stringify(event), "the reveal's audit event");
    // The next view is masked again.
    expectNoSecret(visibleText((await admin.get(`/instances/${instance.id}`)).text), "the instance page after a reveal");
  });

  it("refuses an operator's reveal", async () => {
    const before = await t.deps.db.auditEvent.count({ where: { action: "instance.secrets_revealed" } });
    const reply = await operator.submit(`/instances/${instance.id}/reveal-secrets`, {}, `/instances/${instance.id}`);
    expect(reply.status).toBe(403);
    expectNoSecret(reply.text, "the refusal");
    expect(await t.deps.db.auditEvent.count({ where: { action: "instance.secrets_revealed" } })).toBe(before);
  });
});

describe("secrets an instance's appservers share, with its data on shared services", () => {
  let t: TestApp;
  let operator: Agent;
  const MYSQL_ADMIN_PASSWORD = "mysql-admin-password-6021";
  const S3_SECRET = "s3-account-secret-access-key-7340";

  beforeAll(async () => {
    t = await startTestApp();
    operator = await t.loginAs("oona");
  });
  afterAll(() => t.close());

  async function instanceWithServices() {
    const service = (name: string, kind: "mysql" | "mongodb" | "s3", settings: object, credentials: object) =>
      t.deps.db.dataService.create({ data: { name: `${name}-${Math.random().toString(36).slice(2, 8)}`, kind, settings, credentialsEncrypted: t.deps.secrets.encrypt(JSON.stringify(credentials)) } });
    const mysql = await service("mysql", "mysql", { host: "mysql.data.test", port: 3306, tls: false }, { user: "root", password: MYSQL_ADMIN_PASSWORD });
    const mongodb = await service("mongo", "mongodb", { host: "mongo.data.test", port: 27017, tls: false }, { user: "admin", password: "mongo-admin-password-1187" });
    const storage = await service("s3", "s3", { endpoint: "http://s3.data.test:9000", region: "us-east-1", forcePathStyle: true }, { accessKeyId: "OCIMTESTACCESSKEY001", secretAccessKey: S3_SECRET });
    // Made as an instance from before JWT keys were generated at creation: its first launch makes one.
    return makeInstance(t.deps, { name: "Shared U", mysqlServiceId: mysql.id, mongodbServiceId: mongodb.id, storageServiceId: storage.id });
  }

  it("are masked on the appserver page and in its stored snapshot, while the services' addresses show", async () => {
    const instance = await instanceWithServices();
    expect(instance.jwtKeyEncrypted).toBe("");
    // Two launches at once: one JWT key is made and both appservers get it.
    const [one, two] = await Promise.all([1, 2].map(() => launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } })));
    const sealed = (await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } })).jwtKeyEncrypted;
    expect(sealed).not.toBe("");
    const snapshots = await Promise.all([one!, two!].map(async (as) => readSnapshot((await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).configSnapshot)));
    const [a, b] = snapshots.map((s) => s.variables as Record<string, unknown>);
    expect(a!.EDXAPP_JWT_PRIVATE_SIGNING_JWK).toBe(b!.EDXAPP_JWT_PRIVATE_SIGNING_JWK);
    expect(a!.EDXAPP_EDXAPP_SECRET_KEY).toBe(b!.EDXAPP_EDXAPP_SECRET_KEY);
    expect([a!.COMMON_HOSTNAME, b!.COMMON_HOSTNAME].sort()).toEqual([`${instance.slug}-as1`, `${instance.slug}-as2`]);

    const plan = instanceDataPlan(t.deps.secrets, instance, []);
    const jwk = JSON.parse(a!.EDXAPP_JWT_PRIVATE_SIGNING_JWK as string) as Record<string, string>;
    const hidden = [
      S3_SECRET, MYSQL_ADMIN_PASSWORD, sealed, jwk.d!, jwk.p!, jwk.q!, ...(a!.EDXAPP_FERNET_KEYS as string[]),
      ...["EDXAPP_EDXAPP_SECRET_KEY", "EDXAPP_JWT_SECRET_KEY", "ECOMMERCE_SOCIAL_AUTH_EDX_OAUTH2_SECRET", "EDXAPP_PROFILE_IMAGE_HASH_SEED", "COMMON_XQUEUE_LMS_PASSWORD"].map((n) => String(a![n])),
      ...[...plan.mysql.users, ...plan.mongodb.users].map((u) => u.password),
    ];
    for (const as of [one!, two!]) {
      const text = visibleText((await operator.get(`/appservers/${as.id}`)).text);
      expectNoSecret(text, "the appserver page", hidden);
      expect(text).toContain("EDXAPP_MYSQL_HOST: mysql.data.test");
      expect(text).toContain(`EDXAPP_MYSQL_DB_NAME: ${plan.mysql.databases[0]!.name}`);
      expect(text).toContain("EDXAPP_MONGO_HOSTS: - mongo.data.test");
      expect(text).toContain(`EDXAPP_AWS_STORAGE_BUCKET_NAME: ${plan.storage.bucket}`);
      expect(text).toContain(`EDXAPP_MYSQL_PASSWORD: ${MASK}`);
      expect(text).toContain(`EDXAPP_PROFILE_IMAGE_HASH_SEED: ${MASK}`);
    }
    // The snapshot keeps what the playbook needs, never the sealed key it was derived from.
    for (const s of snapshots) expect(Object.keys(s.instance)).not.toContain("jwtKeyEncrypted");
    // The logs of a run mask them by value, whatever the line's shape.
    const mask = createMasker(snapshotSecrets(snapshots[0]!));
    expectNoSecret(mask(`XQUEUE_DJANGO_USERS: {lms: ${String(a!.COMMON_XQUEUE_LMS_PASSWORD)}} seed ${String(a!.EDXAPP_PROFILE_IMAGE_HASH_SEED)}`), "a log line", hidden);
    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "Instance", subjectId: String(instance.id) } });
    expectNoSecret(JSON.stringify(events), "audit events", hidden);
  });

  it("gives a new instance its JWT key at creation, out of its audit event", async () => {
    const created = await createInstance(t.deps, { actor: { id: null, login: "adele" }, values: { name: "Keyed U", internalLmsDomain: "keyed-u.example.test" } });
    expect(created.jwtKeyEncrypted).not.toBe("");
    expect(t.deps.secrets.decrypt(created.jwtKeyEncrypted)).toContain("BEGIN PRIVATE KEY");
    const event = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.created", subjectId: String(created.id) } });
    expect(JSON.stringify(event.diff)).not.toContain("jwtKeyEncrypted");
  });
});
