// A provider account is a form with a field per OpenStack setting and write-only credential fields
// (issue 16). Each bad value is refused next to its field, keeps what was typed (the credentials
// typed in that request too, never stored ones), and saves nothing; an edit that leaves a credential
// blank keeps the stored one. "Test connection"
// signs in to the in-test OpenStack and looks up what a launch needs, and says exactly what failed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, fieldValue, visibleText, type Agent } from "./helpers/browserless.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";
import { freePort } from "./helpers/redis-server.js";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const PROJECT_NEEDED = "Required for a user name and password: the project's name (with its domain unless it is Default), or its id below. An application credential brings its own project.";

describe("admin: an OpenStack provider account as a form, with Test connection", () => {
  let t: TestApp;
  let admin: Agent;
  let cloud: FakeOpenstack;
  beforeAll(async () => {
    cloud = await new FakeOpenstack().start();
    // A short API deadline, so the test of a Keystone that does not answer ends quickly.
    t = await startTestApp({ PROVIDER_API_TIMEOUT_SECONDS: "3" });
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(async () => {
    await t?.close();
    await cloud?.stop();
  });

  const form = (over: Record<string, string> = {}): Record<string, string> => ({
    name: "cloud", kind: "openstack", auth: "password",
    authUrl: cloud.authUrl, region: "", computeInterface: "public", projectName: cloud.projectName, projectDomainName: "", projectId: "", userDomainName: "",
    flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key", floatingNetwork: "public", networks: "private\r\n", securityGroups: "",
    sshUser: "", sshPort: "", workDir: "", deleteTimeoutSeconds: "",
    username: cloud.username, password: cloud.password, applicationCredentialId: "", applicationCredentialSecret: "", sshPrivateKey: KEY,
    ...over,
  });

  const refusals: [string, Record<string, string>, string, string][] = [
    ["a Keystone URL that is not a URL", { authUrl: "keystone.example.com" }, "authUrl", "Must be an http(s) URL."],
    ["a negative SSH port", { sshPort: "-22" }, "sshPort", "Must be at least 1."],
    ["an SSH port that is not a number", { sshPort: "twenty-two" }, "sshPort", "Enter a whole number."],
    ["a password account without its project", { projectName: "" }, "projectName", PROJECT_NEEDED],
    ["no flavor", { flavorRef: "" }, "flavorRef", "This field is required."],
    ["a relative working directory", { workDir: "ocim" }, "workDir", "Must be an absolute path."],
    ["no password on a new account", { password: "" }, "password", "Required to sign in with a user name and password."],
    ["an application credential typed beside a password", { applicationCredentialSecret: "stray-secret" }, "applicationCredentialSecret", 'Leave this blank: the account signs in with a user name and password. Choose an application credential under "Sign in with" to use it.'],
    ["a private key that is not one", { sshPrivateKey: "ssh-ed25519 AAAA public" }, "sshPrivateKey", "Must be an OpenSSH or PEM private key."],
  ];

  it.each(refusals)("refuses %s next to its field, keeps what was typed, and saves nothing", async (_what, over, field, message) => {
    const values = form(over);
    const res = await admin.submit("/admin/provider-accounts/add", values);
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain("Nothing was saved.");
    expect(fieldError(res.text, field)).toBe(message);
    for (const typed of ["authUrl", "username", "password", "applicationCredentialSecret", "sshPrivateKey"]) expect(fieldValue(res.text, typed), typed).toBe(values[typed]);
    expect(await t.deps.db.providerAccount.count()).toBe(0);
  });

  it("asks an application-credential account for its id and secret only, in words, not for a user name and password", async () => {
    const res = await admin.submit("/admin/provider-accounts/add", form({ auth: "application_credential", username: "", password: "" }));
    expect(res.status).toBe(400);
    expect(fieldError(res.text, "applicationCredentialId")).toBe("Required to sign in with an application credential.");
    expect(fieldError(res.text, "applicationCredentialSecret")).toBe("Required to sign in with an application credential.");
    expect(fieldError(res.text, "username")).toBeNull();
    expect(fieldError(res.text, "password")).toBeNull();
    expect(visibleText(res.text)).not.toContain("applicationCredentialId");
    expect(await t.deps.db.providerAccount.count()).toBe(0);
  });

  it("round-trips: stores the settings JSON and encrypted credentials, shows which are set, and keeps them when an edit leaves them blank", async () => {
    const created = await admin.submit("/admin/provider-accounts/add", { ...form(), _save: "continue" });
    expect(visibleText(created.text)).toContain('The provider account "cloud" was added.');
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    expect(account.settings).toEqual({ authUrl: cloud.authUrl, projectName: "ocim", flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key", floatingNetwork: "public", networks: ["private"] });
    expect(JSON.parse(t.deps.secrets.decrypt(account.credentialsEncrypted))).toEqual({ username: cloud.username, password: cloud.password, sshPrivateKey: KEY });

    const page = await admin.get(`/admin/provider-accounts/${account.id}`);
    expect(visibleText(page.text)).toContain("Credentials set (encrypted): user name, password, SSH private key");
    expect(page.text).toContain(`value="${cloud.authUrl}"`);
    expect(page.text).not.toContain(cloud.password);
    expect(page.text).not.toContain(cloud.username);

    const blank = { username: "", password: "", sshPrivateKey: "" };
    const edited = await admin.submit(`/admin/provider-accounts/${account.id}`, form({ ...blank, region: "RegionOne", sshPort: "2222" }), `/admin/provider-accounts/${account.id}`);
    expect(visibleText(edited.text)).toContain('The provider account "cloud" was saved.');
    const after = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(after.credentialsEncrypted).toBe(account.credentialsEncrypted);
    expect(after.settings).toMatchObject({ region: "RegionOne", sshPort: 2222 });

    // A bad edit changes nothing, the stored credentials included.
    const bad = await admin.submit(`/admin/provider-accounts/${account.id}`, form({ ...blank, authUrl: "ftp://keystone" }), `/admin/provider-accounts/${account.id}`);
    expect(fieldError(bad.text, "authUrl")).toBe("Must be an http(s) URL.");
    expect(await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } })).toEqual(after);

    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "ProviderAccount" } });
    expect(events.map((e) => e.action)).toEqual(["provider_account.created", "provider_account.updated"]);
    expect(JSON.stringify(events)).not.toContain(cloud.password);
  });

  it("reports a duplicate name together with the other problems, keeping the key typed on a new account and never a stored one", async () => {
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    const added = await admin.submit("/admin/provider-accounts/add", form({ sshPort: "-22" }));
    expect([fieldError(added.text, "name"), fieldError(added.text, "sshPort")]).toEqual(["Another provider account already has this name.", "Must be at least 1."]);
    expect(fieldValue(added.text, "sshPrivateKey")).toBe(KEY);
    expect(await t.deps.db.providerAccount.count()).toBe(1);

    const path = `/admin/provider-accounts/${account.id}`;
    const edited = await admin.submit(path, form({ username: "", password: "typed-anew-9", sshPrivateKey: "", sshPort: "-22" }), path);
    expect(fieldError(edited.text, "sshPort")).toBe("Must be at least 1.");
    expect([fieldValue(edited.text, "username"), fieldValue(edited.text, "password"), fieldValue(edited.text, "sshPrivateKey")]).toEqual(["", "typed-anew-9", ""]);
    expect(edited.text).not.toContain(cloud.password);
  });

  it("Test connection signs in, finds the flavor, image, networks and key pair, and is audited", async () => {
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    await admin.submit(`/admin/provider-accounts/${account.id}`, form({ username: "", password: "", sshPrivateKey: "", region: "", sshPort: "" }), `/admin/provider-accounts/${account.id}`);
    const res = await admin.submit(`/admin/provider-accounts/${account.id}/test`, {}, `/admin/provider-accounts/${account.id}`);
    const text = visibleText(res.text);
    expect(text).toContain('The connection test of "cloud" worked.');
    expect(text).toContain(`Keystone accepted the credentials; endpoints: compute ${cloud.url}/compute/v2.1/p1`);
    expect(text).toContain('Flavor "m1.medium": found (id 3).');
    expect(text).toContain(`Image "ubuntu-22.04": found (id ${cloud.images[0]!.id}).`);
    expect(text).toContain(`Network "private": found (id ${cloud.networks[0]!.id}).`);
    expect(text).toContain(`External network "public": found (id ${cloud.networks[1]!.id}).`);
    expect(text).toContain('Key pair "ocim-key": found');
    expect(res.text).not.toContain(cloud.password);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "provider_account.connection_tested" } });
    expect(JSON.stringify(audit.diff)).toContain("works");
    expect(JSON.stringify(audit.diff)).not.toContain(cloud.password);
  });

  it("Test connection reports a wrong password (401), an unknown flavor, an ambiguous image, a Keystone that does not answer and one that cannot be reached", async () => {
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    const path = `/admin/provider-accounts/${account.id}`;
    const test = async () => visibleText((await admin.submit(`${path}/test`, {}, path)).text);
    const edit = (over: Record<string, string>) => admin.submit(path, form({ username: "", password: "", sshPrivateKey: "", ...over }), path);

    await edit({ password: "not-the-password" });
    const refused = await test();
    expect(refused).toContain('The connection test of "cloud" failed. OpenStack refused the credentials of provider account "cloud" (401).');
    expect(refused).not.toContain("not-the-password");
    await edit({ password: cloud.password });

    await edit({ flavorRef: "m1.huge" });
    cloud.images.push({ id: "0b5e6a3c-1111-4222-8333-444455556666", name: "ubuntu-22.04" });
    const unknown = await test();
    expect(unknown).toContain('Flavor "m1.huge": OpenStack has no flavor named or with id "m1.huge" (provider account "cloud").');
    expect(unknown).toContain(`Image "ubuntu-22.04": OpenStack has 2 images named "ubuntu-22.04" (${cloud.images[0]!.id}, 0b5e6a3c-1111-4222-8333-444455556666): give the id instead`);
    cloud.images.pop();

    cloud.fault("keystone", { delayMs: 4_000 });
    expect(await test()).toContain(`OpenStack (${new URL(cloud.url).host}) did not answer within 3 s while authenticating provider account "cloud".`);

    const port = await freePort();
    await edit({ flavorRef: "m1.medium", authUrl: `http://127.0.0.1:${port}/v3` });
    expect(await test()).toContain(`Could not reach OpenStack (127.0.0.1:${port}) while authenticating provider account "cloud": connection refused.`);
  });

  it("switching to an application credential drops the stored password, and it signs in", async () => {
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    const path = `/admin/provider-accounts/${account.id}`;
    const switched = await admin.submit(path, form({
      auth: "application_credential", projectName: "", username: "", password: "", sshPrivateKey: "",
      applicationCredentialId: cloud.applicationCredentialId, applicationCredentialSecret: cloud.applicationCredentialSecret,
    }), path);
    expect(visibleText(switched.text)).toContain('The provider account "cloud" was saved.');
    const after = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(JSON.parse(t.deps.secrets.decrypt(after.credentialsEncrypted))).toEqual({
      applicationCredentialId: cloud.applicationCredentialId, applicationCredentialSecret: cloud.applicationCredentialSecret, sshPrivateKey: KEY,
    });
    expect(visibleText((await admin.get(path)).text)).toContain("Credentials set (encrypted): application credential id, application credential secret, SSH private key");
    expect(visibleText((await admin.submit(`${path}/test`, {}, path)).text)).toContain('The connection test of "cloud" worked.');
  });

  it("a local account keeps no OpenStack values and its Test connection checks this host", async () => {
    const res = await admin.submit("/admin/provider-accounts/add", { name: "here", kind: "local", computeInterface: "public", auth: "password", flavorRef: "m1.medium", _save: "continue" });
    expect(visibleText(res.text)).toContain('The provider account "here" was added. A local account has no settings or credentials');
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "here" } });
    expect(account.settings).toEqual({});
    const text = visibleText((await admin.submit(`/admin/provider-accounts/${account.id}/test`, {}, `/admin/provider-accounts/${account.id}`)).text);
    expect(text).toContain('The connection test of "here" worked.');
    expect(text).toContain("OpenSSH: /usr/sbin/sshd and");
    expect(text).toMatch(/VM directory \S+\/vms: writable\./);
  });
});
