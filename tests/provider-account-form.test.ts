// An OpenStack provider account is checked against what the adapter needs when it is saved (issue
// 10, finding 7b): each refusal is shown next to its field, names the bad key, keeps what was typed,
// never quotes a credential, and saves nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, visibleText, type Agent } from "./helpers/browserless.js";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----";
const SECRET = "pw-9f3c-never-shown";
const good = { authUrl: "https://keystone.example.com:5000/v3", projectName: "ocim", flavorRef: "m1.large", imageRef: "ubuntu-22.04", keyName: "ocim" };
const goodCredentials = { username: "ocim", password: SECRET, sshPrivateKey: KEY };
const NEEDED = "Required keys: authUrl, flavorRef, imageRef, keyName.";
const CREDS_NEEDED = "Required keys: sshPrivateKey.";

describe("admin: an OpenStack account's settings are checked when saved", () => {
  let t: TestApp;
  let admin: Agent;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(() => t?.close());

  const form = (settings: object | string, credentials: object | string = goodCredentials, name = "cloud") => ({
    name, kind: "openstack",
    settings: typeof settings === "string" ? settings : JSON.stringify(settings),
    credentials: typeof credentials === "string" ? credentials : JSON.stringify(credentials),
  });

  const refusals: [string, ReturnType<typeof form>, string, string][] = [
    ["missing keys", form({ authUrl: good.authUrl }), "settings", `Not valid for OpenStack: "flavorRef" is missing; "imageRef" is missing; "keyName" is missing. ${NEEDED}`],
    ["an auth URL that is not a URL", form({ ...good, authUrl: "keystone.example.com" }), "settings", `Not valid for OpenStack: "authUrl" must be an http(s) URL. ${NEEDED}`],
    ["a misspelt key", form({ ...good, regoin: "RegionOne" }), "settings", `Not valid for OpenStack: unknown key "regoin". ${NEEDED}`],
    ["a value of the wrong type", form({ ...good, networkIds: "net-1", sshPort: "22" }), "settings", `Not valid for OpenStack: "networkIds" must be a list; "sshPort" must be a number. ${NEEDED}`],
    ["an empty flavor", form({ ...good, flavorRef: "" }), "settings", `Not valid for OpenStack: "flavorRef" must not be empty. ${NEEDED}`],
    ["an unknown endpoint interface", form({ ...good, computeInterface: "private" }), "settings", `Not valid for OpenStack: "computeInterface" must be one of: public, internal, admin. ${NEEDED}`],
    ["credentials without the SSH key", form(good, { username: "ocim", password: SECRET }), "credentials", `Not valid for OpenStack: "sshPrivateKey" is missing. ${CREDS_NEEDED}`],
    ["credentials with a password that is not text", form(good, { username: "ocim", password: 12345678, sshPrivateKey: KEY }), "credentials", `Not valid for OpenStack: "password" must be text (in quotes). ${CREDS_NEEDED}`],
    ["credentials with a user but no password", form(good, { username: "ocim", sshPrivateKey: KEY }), "credentials", `Not valid for OpenStack: "password" must be given (or applicationCredentialId and applicationCredentialSecret instead). ${CREDS_NEEDED}`],
    ["an application credential without its secret", form(good, { applicationCredentialId: "ac-1", sshPrivateKey: KEY }), "credentials", `Not valid for OpenStack: "applicationCredentialSecret" must be given with applicationCredentialId. ${CREDS_NEEDED}`],
    ["password credentials with no project", form({ ...good, projectName: undefined }), "settings", 'Password credentials need the project: "projectName" (with "projectDomainName" unless it is Default) or "projectId". An application credential brings its own project.'],
    ["no credentials at all", form(good, ""), "credentials", 'Required for an OpenStack account: a JSON object with "sshPrivateKey" and either "username" and "password", or "applicationCredentialId" and "applicationCredentialSecret".'],
  ];

  it.each(refusals)("refuses %s next to the field, naming the key, and saves nothing", async (_what, values, field, message) => {
    const res = await admin.submit("/admin/provider-accounts/add", values);
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain("Nothing was saved.");
    expect(fieldError(res.text, field)).toBe(message);
    expect(res.text).not.toContain(SECRET);
    if (field === "settings") expect(visibleText(res.text)).toContain(values.settings);
    expect(await t.deps.db.providerAccount.count()).toBe(0);
  });

  it("saves an application credential with no project (it brings its own) and a project given by id", async () => {
    const appCred = { applicationCredentialId: "ac-1", applicationCredentialSecret: SECRET, sshPrivateKey: KEY };
    const ok = await admin.submit("/admin/provider-accounts/add", form({ ...good, projectName: undefined, floatingNetwork: "public" }, appCred, "appcred"));
    expect(visibleText(ok.text)).toContain('The provider account "appcred" was added.');
    const byId = await admin.submit("/admin/provider-accounts/add", form({ ...good, projectName: undefined, projectId: "8a1f" }, goodCredentials, "by-id"));
    expect(visibleText(byId.text)).toContain('The provider account "by-id" was added.');
    await t.deps.db.providerAccount.deleteMany({ where: { name: { in: ["appcred", "by-id"] } } });
  });

  it("saves valid settings, and checks an edit that keeps the stored credentials too", async () => {
    const ok = await admin.submit("/admin/provider-accounts/add", form(good));
    expect(visibleText(ok.text)).toContain('The provider account "cloud" was added.');
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    const bad = await admin.submit(`/admin/provider-accounts/${account.id}`, form({ ...good, imageRef: 7 }, ""), `/admin/provider-accounts/${account.id}`);
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, "settings")).toBe(`Not valid for OpenStack: "imageRef" must be text (in quotes). ${NEEDED}`);
    expect(await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } })).toEqual(account);
    const edited = await admin.submit(`/admin/provider-accounts/${account.id}`, form({ ...good, region: "RegionTwo" }, ""), `/admin/provider-accounts/${account.id}`);
    expect(visibleText(edited.text)).toContain('The provider account "cloud" was saved.');
    const after = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(after.settings).toEqual({ ...good, region: "RegionTwo" });
    expect(after.credentialsEncrypted).toBe(account.credentialsEncrypted);
  });
});
