// Load balancers, users and provider accounts through the admin forms.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, fieldValue, visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";

describe("admin: load balancers, users, provider accounts", () => {
  let t: TestApp;
  let admin: Agent;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(() => t.close());

  const lbDir = () => t.deps.config.localLbDir;
  const lbForm = (o: Record<string, string> = {}) => ({
    name: "edge", kind: "local", fragmentName: "edge", configPath: `${lbDir()}/haproxy.cfg`, mapPath: `${lbDir()}/ocim.map`,
    reloadCommand: "", host: "", sshUser: "", sshPort: "", ...o,
  });

  it("adds a load balancer, refuses bad settings, and shows its version counters read-only", async () => {
    const bad = await admin.submit("/admin/load-balancers/add", lbForm({ kind: "ssh", fragmentName: "Edge_1", configPath: "etc/haproxy.cfg", sshPort: "70000" }));
    expect(bad.status).toBe(400);
    const text = visibleText(bad.text);
    for (const message of [
      "Use lowercase letters, digits and -, not starting with - (at most 40).",
      'Enter an absolute path of letters, digits and . _ - / (no spaces, no "..").',
      "Enter a whole number from 1 to 65535.",
    ]) expect(text).toContain(message);
    // An ssh balancer needs its host, user and reload command.
    expect(bad.text.match(/This field is required\./g)).toHaveLength(3);
    expect(await t.deps.db.loadBalancer.count()).toBe(0);

    const ok = await admin.submit("/admin/load-balancers/add", lbForm());
    expect(visibleText(ok.text)).toContain('The load balancer "edge" was added.');
    const lb = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "edge" } });
    // The SSH port was left empty: the form says what that means, and that is what was saved.
    const form = await admin.get(`/admin/load-balancers/${lb.id}`);
    expect(form.text).toMatch(/<input[^>]*name="sshPort"[^>]*placeholder="22"/);
    expect(visibleText(form.text)).toContain("Only for an ssh balancer. Empty: 22.");
    expect(lb.sshPort).toBe(22);
    await t.deps.db.loadBalancer.update({ where: { id: lb.id }, data: { configurationVersion: 4, deployedVersion: 3, lastError: "haproxy -c: parse error at line 12" } });
    const page = await admin.get(`/admin/load-balancers/${lb.id}`);
    const pageText = visibleText(page.text);
    expect(pageText).toContain("Configuration version 4 Deployed version 3");
    expect(pageText).toContain("Last error haproxy -c: parse error at line 12");
    expect(page.text).not.toContain('name="configurationVersion"');

    const dup = await admin.submit("/admin/load-balancers/add", lbForm({ kind: "ssh", host: "lb.example.net", sshUser: "ocim", reloadCommand: "true", mapPath: "/srv/other.map" }));
    expect(dup.status).toBe(400);
    expect(visibleText(dup.text)).toContain("Another load balancer already has this name.");
  });

  it("bumps a changed load balancer's version, and refuses to delete one that routes instances", async () => {
    const lb = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "edge" } });
    await t.deps.jobs.queue("periodic").obliterate({ force: true });
    await admin.submit(`/admin/load-balancers/${lb.id}`, lbForm({ mapPath: `${lbDir()}/new.map` }), `/admin/load-balancers/${lb.id}`);
    const after = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(after).toMatchObject({ mapPath: `${lbDir()}/new.map`, configurationVersion: lb.configurationVersion + 1 });
    // …and queues the apply of what is now behind, instead of leaving it to the next lb-sync.
    const queued = await t.deps.jobs.queue("periodic").getJobs(["waiting", "delayed", "active", "completed"]);
    expect(queued.some((j) => j.name === "lb-sync" && j.id?.startsWith("lb-sync-soon-"))).toBe(true);
    await makeInstance(t.deps, { name: "Routed", loadBalancerId: lb.id });
    const confirm = await admin.get(`/admin/load-balancers/${lb.id}/delete`);
    expect(visibleText(confirm.text)).toContain("It routes 1 instance; move them to another load balancer first.");
    const forced = await admin.submit(`/admin/load-balancers/${lb.id}/delete`, {}, `/admin/load-balancers/${lb.id}`);
    expect(forced.status).toBe(409);
    expect(visibleText(forced.text)).toContain('"edge" routes 1 instance(s) (Routed)');
    expect(await t.deps.db.loadBalancer.count()).toBe(1);
  });

  it("changes another user's role, but never lets an admin demote, deactivate or delete themselves", async () => {
    await t.loginAs("olga");
    const olga = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "olga" } });
    const root = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "root" } });
    const promoted = await admin.submit(`/admin/users/${olga.id}`, { githubLogin: "olga", name: "Olga", role: "admin", isActive: "true" }, `/admin/users/${olga.id}`);
    expect(visibleText(promoted.text)).toContain('The user "olga" was saved.');
    expect((await t.deps.db.user.findUniqueOrThrow({ where: { id: olga.id } })).role).toBe("admin");

    const self = await admin.submit(`/admin/users/${root.id}`, { githubLogin: "root", name: "", role: "operator" }, `/admin/users/${root.id}`);
    expect(self.status).toBe(400);
    const text = visibleText(self.text);
    expect(text).toContain("You cannot take away your own admin role; ask another admin to do it.");
    expect(text).toContain("You cannot deactivate yourself; ask another admin to do it.");
    expect(await t.deps.db.user.findUniqueOrThrow({ where: { id: root.id } })).toMatchObject({ role: "admin", isActive: true });

    const confirm = await admin.get(`/admin/users/${root.id}/delete`);
    expect(visibleText(confirm.text)).toContain("This is your own account; another admin must delete it.");
    const forced = await admin.submit(`/admin/users/${root.id}/delete`, {}, `/admin/users/${root.id}`);
    expect(forced.status).toBe(409);
    expect(await t.deps.db.user.count({ where: { id: root.id } })).toBe(1);

    const dup = await admin.submit("/admin/users/add", { githubLogin: "OLGA", name: "", role: "operator", isActive: "true" });
    expect(dup.status).toBe(400);
    expect(visibleText(dup.text)).toContain("A user with this GitHub login already exists.");
    const bad = await admin.submit("/admin/users/add", { githubLogin: "-bad login", role: "boss" });
    expect(visibleText(bad.text)).toContain("Enter a GitHub login: letters, digits and -, not starting with -.");
    expect(visibleText(bad.text)).toContain("Choose one of: admin, operator.");
  });

  it("stores provider credentials encrypted and never shows them on any page", async () => {
    const secret = "s3cr3t-Passw0rd-do-not-show";
    const base = { authUrl: "https://keystone.example.com/v3", projectName: "ocim", flavorRef: "m1", imageRef: "ubuntu", keyName: "ocim" };
    const credentials = { username: "ocim", password: secret, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" };
    const bad = await admin.submit("/admin/provider-accounts/add", { name: "cloud", kind: "openstack", auth: "password", ...base, sshPort: "0", ...credentials });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, "sshPort")).toBe("Must be at least 1.");
    // What was typed in the refused request comes back to its author, and nowhere else (the pages below).
    expect(fieldValue(bad.text, "password")).toBe(secret);

    await admin.submit("/admin/provider-accounts/add", { name: "cloud", kind: "openstack", auth: "password", ...base, region: "RegionOne", ...credentials });
    const account = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { name: "cloud" } });
    expect(account.credentialsEncrypted).not.toContain(secret);
    expect(JSON.parse(t.deps.secrets.decrypt(account.credentialsEncrypted))).toEqual(credentials);

    // Saved again with the credential fields blank: the credentials stay.
    await admin.submit(`/admin/provider-accounts/${account.id}`, { name: "cloud", kind: "openstack", auth: "password", ...base, region: "RegionTwo", username: "", password: "", sshPrivateKey: "" }, `/admin/provider-accounts/${account.id}`);
    const kept = await t.deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(kept.credentialsEncrypted).toBe(account.credentialsEncrypted);
    expect(kept.settings).toEqual({ ...base, region: "RegionTwo" });

    const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "ProviderAccount" }, orderBy: { id: "asc" } });
    const pages = ["/admin/provider-accounts", `/admin/provider-accounts/${account.id}`, `/admin/provider-accounts/${account.id}/history`,
      `/admin/provider-accounts/${account.id}/delete`, "/admin/audit-events", ...events.map((e) => `/admin/audit-events/${e.id}`)];
    for (const path of pages) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).not.toContain(secret);
      expect(res.text, path).not.toContain(account.credentialsEncrypted);
    }
    expect(visibleText((await admin.get(`/admin/provider-accounts/${account.id}`)).text)).toContain("Credentials set (encrypted)");
    const history = visibleText((await admin.get(`/admin/provider-accounts/${account.id}/history`)).text);
    expect(history).toContain("Provider account added by root");
    expect(history).toMatch(/Credentials — •••••• \(new\)/);
  });
});
