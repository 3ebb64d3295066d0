// Instances through the real admin forms: what an admin types, what the page says back, and what
// the database holds afterwards.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { decodeHtml, fieldError, fieldValue, visibleText, type Agent } from "./helpers/browserless.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer, removeLoadBalancerFiles } from "./helpers/lb.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#39;");
}

/** The help text under one form field, as a person reads it. */
function fieldHelp(html: string, field: string): string {
  return visibleText(html.match(new RegExp(`<p class="help" id="help_${field}">([^<]*)</p>`))?.[1] ?? "");
}

/** The labels of the rows of a table of changes, top to bottom. */
function changedFields(html: string): string[] {
  return [...html.matchAll(/<th scope="row">([^<]*)<\/th>/g)].map((m) => decodeHtml(m[1]!));
}

/** A history page's events, newest first: the action's words and the labels of its rows. */
function historyEvents(html: string): { action: string; fields: string[] }[] {
  return [...html.matchAll(/<li class="panel">([\s\S]*?)<\/li>/g)].map(([, block]) => ({
    action: visibleText(block!.match(/<span class="mono action">([^<]*)<\/span>/)![1]!),
    fields: changedFields(block!),
  }));
}

/** The form's field labels in the order the form shows them (a checkbox group's options left out). */
function formLabels(html: string): string[] {
  return [...html.matchAll(/<label(?: class="checkbox")? for="id_\w+?">([\s\S]*?)<\/label>|<legend>([\s\S]*?)<\/legend>/g)]
    .filter((m) => !/for="id_\w+_\d+"/.test(m[0]))
    .map((m) => visibleText(m[1] ?? m[2]!).replace(/ \*$/, ""));
}

/** Everything the add form sends, as a browser would, with a valid value in each field. */
function form(overrides: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return {
    name: "Demo University", internalLmsDomain: "lms.demo.example.com",
    studioDomain: "", previewDomain: "", ecommerceDomain: "", discoveryDomain: "", appsDomain: "", externalDomains: "",
    edxPlatformRepoUrl: "", edxPlatformBranch: "", configurationRepoUrl: "", configurationBranch: "", playbookPath: "",
    openedxRelease: "", bootstrapCommand: "", extraAnsibleVars: "", appserverCount: "1", providerKind: "local",
    loadBalancerId: "", pullRequestUrl: "", pullRequestState: "",
    ...overrides,
  };
}

describe("admin: instances", () => {
  let t: TestApp;
  let admin: Agent;

  beforeAll(async () => {
    t = await startTestApp({ DEFAULT_CONFIGURATION_BRANCH: "open-release/quince.master" });
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await t.deps.db.appServer.deleteMany();
    await t.deps.db.instance.deleteMany();
    await t.deps.db.auditEvent.deleteMany();
  });

  it("asks for its balancers to be applied with each change that moves its routing, in the change's transaction", async () => {
    const [first, second] = [await makeLoadBalancer(t.deps), await makeLoadBalancer(t.deps)];
    // The applies asked for since the test began, by balancer (outbox rows, sent or not).
    const since = (await t.deps.db.outboxMessage.aggregate({ _max: { id: true } }))._max.id ?? 0n;
    const applies = async () => (await t.deps.db.outboxMessage.findMany({ where: { kind: "apply-load-balancer", id: { gt: since } }, orderBy: { id: "asc" } }))
      .map((m) => (m.payload as { loadBalancerId: number }).loadBalancerId);
    await admin.submit("/admin/instances/add", form({ loadBalancerId: String(first.id) }));
    expect(await applies()).toEqual([first.id]);
    const created = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Demo University" } });
    // A change that routes nothing differently asks for nothing.
    await admin.submit(`/admin/instances/${created.id}`, form({ name: "Demo University II", loadBalancerId: String(first.id) }));
    expect(await applies()).toEqual([first.id]);
    // A new domain, then a move to another balancer: both balancers change when it moves.
    await admin.submit(`/admin/instances/${created.id}`, form({ name: "Demo University II", externalDomains: "new.demo.org", loadBalancerId: String(first.id) }));
    await admin.submit(`/admin/instances/${created.id}`, form({ name: "Demo University II", externalDomains: "new.demo.org", loadBalancerId: String(second.id) }));
    expect(await applies()).toEqual([first.id, first.id, first.id, second.id]);
    await admin.submit(`/admin/instances/${created.id}/delete`, {}, `/admin/instances/${created.id}`);
    expect(await t.deps.db.instance.count({ where: { id: created.id } })).toBe(0);
    expect(await applies()).toEqual([first.id, first.id, first.id, second.id, second.id]);
    for (const lb of [first, second]) await t.deps.db.loadBalancer.delete({ where: { id: lb.id } });
    for (const lb of [first, second]) removeLoadBalancerFiles(lb);
  });

  it("preselects the load balancer on the add form when there is only one, and no choice when there are several", async () => {
    const selected = async () => {
      const html = (await admin.get("/admin/instances/add")).text;
      const select = html.slice(html.indexOf('name="loadBalancerId"'), html.indexOf("</select>", html.indexOf('name="loadBalancerId"')));
      return [...select.matchAll(/<option value="([^"]*)" selected>/g)].map((m) => m[1]);
    };
    expect(await selected()).toEqual([""]);
    const only = await makeLoadBalancer(t.deps);
    expect(await selected()).toEqual([String(only.id)]);
    const second = await makeLoadBalancer(t.deps);
    expect(await selected()).toEqual([""]);
    for (const lb of [only, second]) {
      await t.deps.db.loadBalancer.delete({ where: { id: lb.id } });
      removeLoadBalancerFiles(lb);
    }
  });

  async function snapshot() {
    return {
      instances: await t.deps.db.instance.findMany({ orderBy: { id: "asc" } }),
      audits: await t.deps.db.auditEvent.count(),
    };
  }

  it("adds an instance: prefixed domains derived, defaults from the settings, a master key, an audit event", async () => {
    const res = await admin.submit("/admin/instances/add", form({ internalLmsDomain: "LMS.Demo.Example.com", externalDomains: "courses.demo.org\r\n\r\nDEMO.org\r\n" }));
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${t.url}/admin/instances`);
    expect(visibleText(res.text)).toContain('The instance "Demo University" was added.');
    const created = await t.deps.db.instance.findFirstOrThrow();
    expect(created).toMatchObject({
      slug: "demo-university",
      internalLmsDomain: "lms.demo.example.com",
      studioDomain: "studio.lms.demo.example.com",
      previewDomain: "preview.lms.demo.example.com",
      ecommerceDomain: "ecommerce.lms.demo.example.com",
      discoveryDomain: "discovery.lms.demo.example.com",
      appsDomain: "apps.lms.demo.example.com",
      externalDomains: ["courses.demo.org", "demo.org"],
      configurationBranch: "open-release/quince.master",
      edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git",
      playbookPath: "playbooks/openedx_native.yml",
      appserverCount: 1,
      isArchived: false,
    });
    expect(t.deps.secrets.decrypt(created.secretKeyEncrypted)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { subjectType: "Instance", subjectId: String(created.id) } });
    expect(audit).toMatchObject({ action: "instance.created", actorLogin: "root", subjectName: "Demo University" });
    expect(JSON.stringify(audit.diff)).not.toContain(created.secretKeyEncrypted);
  });

  it("keeps an instance's appserver count when its field is saved blank, saying it is required", async () => {
    await admin.submit("/admin/instances/add", form({ appserverCount: "3" }));
    const created = await t.deps.db.instance.findFirstOrThrow();
    const path = `/admin/instances/${created.id}`;
    const res = await admin.submit(path, form({ _version: fieldValue((await admin.get(path)).text, "_version")!, appserverCount: "" }));
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain("Please correct the errors below. Nothing was saved.");
    expect(fieldError(res.text, "appserverCount")).toContain("This field is required.");
    expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: created.id } })).appserverCount).toBe(3);
  });

  it("refuses a save from a form opened before someone else's save, keeping both their change and the typed values", async () => {
    await admin.submit("/admin/instances/add", form());
    const created = await t.deps.db.instance.findFirstOrThrow();
    const path = `/admin/instances/${created.id}`;
    // Two tabs open the same form; the first saves a new name and variables.
    const [first, second] = [fieldValue((await admin.get(path)).text, "_version")!, fieldValue((await admin.get(path)).text, "_version")!];
    expect(first).toBe(second);
    await admin.submit(path, form({ _version: first, name: "Renamed in tab 1", extraAnsibleVars: "TUTOR_CONFIG:\n  LANGUAGE_CODE: fr" }));
    // The second tab, opened before that save, changes the appserver count only.
    const stale = await admin.submit(path, form({ _version: second, appserverCount: "3" }));
    expect(stale.status).toBe(409);
    expect(visibleText(stale.text)).toContain("This instance was saved by someone else since you opened this form (by root, at ");
    expect(fieldValue(stale.text, "appserverCount")).toBe("3");
    expect(await t.deps.db.instance.findUniqueOrThrow({ where: { id: created.id } })).toMatchObject({
      name: "Renamed in tab 1", extraAnsibleVars: "TUTOR_CONFIG:\n  LANGUAGE_CODE: fr\n", appserverCount: 1,
    });
    // Saving the refused form again is a choice made knowingly: it goes through.
    const again = await admin.submit(path, form({ _version: fieldValue(stale.text, "_version")!, name: "Renamed in tab 1", extraAnsibleVars: "TUTOR_CONFIG:\n  LANGUAGE_CODE: fr", appserverCount: "3" }));
    expect(visibleText(again.text)).toContain('The instance "Renamed in tab 1" was saved.');
    expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: created.id } })).appserverCount).toBe(3);
  });

  it("says on saving that the active appservers keep the settings they were launched with, unless only labels or routing changed", async () => {
    await admin.submit("/admin/instances/add", form({ recipe: "custom" }));
    const created = await t.deps.db.instance.findFirstOrThrow();
    await makeAppServer(t.deps, created.id, { status: "running", isActive: true });
    const path = `/admin/instances/${created.id}`;
    const changed = await admin.submit(path, form({ recipe: "custom", internalLmsDomain: "lms.moved.example.com", extraAnsibleVars: "EDXAPP_FOO: 2" }));
    expect(visibleText(changed.text)).toContain('The instance "Demo University" was saved. AppServer 1 (active) keeps the settings it was launched with: ' +
      "launch a new appserver to put these changes live (Preview launch shows what it would change).");
    const labels = await admin.submit(path, form({ recipe: "custom", internalLmsDomain: "lms.moved.example.com", extraAnsibleVars: "EDXAPP_FOO: 2", tags: "pilot" }));
    expect(visibleText(labels.text)).toContain('The instance "Demo University" was saved.');
    expect(visibleText(labels.text)).not.toContain("keeps the settings");
  });

  it("warns on saving an openstack instance while no OpenStack account exists, and not once one does", async () => {
    const warning = "No OpenStack provider account is configured, so this instance cannot launch yet: add one under admin › Provider accounts (docs/providers.md).";
    const added = await admin.submit("/admin/instances/add", form({ providerKind: "openstack" }));
    expect(visibleText(added.text)).toContain('The instance "Demo University" was added.');
    expect(visibleText(added.text)).toContain(warning);
    const account = await t.deps.db.providerAccount.create({ data: { name: "cloud", kind: "openstack", settings: {}, credentialsEncrypted: "" } });
    const created = await t.deps.db.instance.findFirstOrThrow();
    const saved = await admin.submit(`/admin/instances/${created.id}`, form({ providerKind: "openstack", name: "Demo University II" }));
    expect(visibleText(saved.text)).toContain('The instance "Demo University II" was saved.');
    expect(visibleText(saved.text)).not.toContain(warning);
    await t.deps.db.providerAccount.delete({ where: { id: account.id } });
  });

  it("gives a new instance the default recipe and release, and the release's branch for a blank edx-platform branch", async () => {
    const page = await admin.get("/admin/instances/add");
    expect(page.text).toMatch(/<option value="tutor" selected>/);
    expect(page.text).toMatch(/id="id_openedxRelease" name="openedxRelease" value="ulmo"/);
    // The settings a recipe does not use say so, on the page as served.
    expect(fieldHelp(page.text, "configurationRepoUrl")).toContain("Not used by the tutor recipe");
    expect(fieldHelp(page.text, "bootstrapCommand")).toContain("Not used by the tutor recipe");
    // Escaped once, so the reader sees the brackets of a pip requirement, not "&lt;".
    expect(fieldHelp(page.text, "tutorPlugins")).toContain("name=<pip requirement> for one pip installs first (indigo=tutor-indigo>=21.0.0,<22)");
    await admin.submit("/admin/instances/add", form({ tutorPlugins: "mfe\r\n\r\ntutor-indigo\r\nextra=git+https://github.com/example/tutor-contrib-extra@v1.0.0#egg=x\r\n" }));
    const created = await t.deps.db.instance.findFirstOrThrow();
    expect(created).toMatchObject({ recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo", tutorPlugins: ["mfe", "tutor-indigo", "extra=git+https://github.com/example/tutor-contrib-extra@v1.0.0#egg=x"] });
    const shown = visibleText((await admin.get(`/instances/${created.id}`)).text);
    expect(shown).toContain("Recipe tutor · Tutor (Docker, current releases)");
    expect(shown).toContain("Open edX release ulmo (Tutor 21)");
    expect(shown).toContain("Tutor plugins mfe, tutor-indigo");
    // The branch follows the release; its name changed with Teak (release/<name>, as Tutor 20 pins it).
    for (const [release, branch] of [["sumac", "open-release/sumac.master"], ["teak", "release/teak"]]) {
      await admin.submit(`/admin/instances/${created.id}`, form({ openedxRelease: release!, tutorPlugins: "mfe" }));
      expect(await t.deps.db.instance.findFirstOrThrow()).toMatchObject({ openedxRelease: release, edxPlatformBranch: branch, tutorPlugins: ["mfe"] });
    }
  });

  it("native: blank branches are the release's, and follow a change of release; an explicit branch stays", async () => {
    const res = await admin.submit("/admin/instances/add", form({ recipe: "native", openedxRelease: "Quince" }));
    expect(res.status).toBe(200);
    const created = await t.deps.db.instance.findFirstOrThrow();
    expect(created).toMatchObject({
      recipe: "native", openedxRelease: "quince", edxPlatformBranch: "open-release/quince.master", configurationBranch: "open-release/quince.master", tutorPlugins: [],
    });
    // The change form shows the derived branches blank, with the branch as a hint, so they follow the release.
    const page = await admin.get(`/admin/instances/${created.id}`);
    expect(page.text).toMatch(/id="id_configurationBranch" name="configurationBranch" value=""\s+placeholder="open-release\/quince.master"/);
    await admin.submit(`/admin/instances/${created.id}`, form({ recipe: "native", openedxRelease: "palm", edxPlatformBranch: "my-fork/palm" }));
    expect(await t.deps.db.instance.findFirstOrThrow()).toMatchObject({
      openedxRelease: "palm", edxPlatformBranch: "my-fork/palm", configurationBranch: "open-release/palm.master",
    });
    expect(visibleText((await admin.get(`/instances/${created.id}`)).text)).toContain("Recipe native · Native (openedx/configuration, up to Quince)");
  });

  it("custom: any git ref is a release, and a blank configuration branch is the DEFAULT_ setting", async () => {
    await admin.submit("/admin/instances/add", form({ recipe: "custom", openedxRelease: "my-tag.1" }));
    expect(await t.deps.db.instance.findFirstOrThrow()).toMatchObject({
      recipe: "custom", openedxRelease: "my-tag.1", edxPlatformBranch: "release/ulmo", configurationBranch: "open-release/quince.master",
    });
  });

  it("keeps an overridden prefixed domain, and derives the others; a second instance of the same name gets its own slug", async () => {
    await admin.submit("/admin/instances/add", form({ studioDomain: "cms.demo.example.com" }));
    await admin.submit("/admin/instances/add", form({ internalLmsDomain: "lms.other.example.com" }));
    const [first, second] = await t.deps.db.instance.findMany({ orderBy: { id: "asc" } });
    expect(first).toMatchObject({ studioDomain: "cms.demo.example.com", previewDomain: "preview.lms.demo.example.com" });
    expect(second).toMatchObject({ slug: "demo-university-2", studioDomain: "studio.lms.other.example.com" });
    const page = await admin.get(`/admin/instances/${first!.id}`);
    // The change form shows the override and leaves derived domains blank, with the derived value as a hint.
    expect(page.text).toMatch(/id="id_studioDomain" name="studioDomain" value="cms.demo.example.com"/);
    expect(page.text).toMatch(/id="id_previewDomain" name="previewDomain" value=""\s+placeholder="preview.lms.demo.example.com"/);
    expect(visibleText(page.text)).toContain("Slug demo-university");
  });

  const refusals: [string, Record<string, string | string[]>, string, string][] = [
    ["a missing name", { name: "  " }, "name", "This field is required."],
    ["a name too long", { name: "x".repeat(101) }, "name", "Enter at most 100 characters (this has 101)."],
    ["a name given twice", { name: ["A", "B"] }, "name", "Enter a single value, not a list."],
    ["an invalid LMS domain", { internalLmsDomain: "lms_demo.example.com" }, "internalLmsDomain", '"lms_demo.example.com" is not a valid domain name'],
    ["a one-label LMS domain", { internalLmsDomain: "localhost" }, "internalLmsDomain", '"localhost" is not a valid domain name'],
    ["an invalid override", { previewDomain: "preview..demo.com" }, "previewDomain", '"preview..demo.com" is not a valid domain name'],
    ["an invalid external domain", { externalDomains: "ok.example.com\nnot valid" }, "externalDomains", '"not valid" is not a valid domain name'],
    ["a domain twice in the instance", { externalDomains: "studio.lms.demo.example.com" }, "externalDomains", "studio.lms.demo.example.com is already this instance's Studio domain"],
    ["an override equal to the LMS domain", { appsDomain: "lms.demo.example.com" }, "appsDomain", "is already this instance's LMS domain"],
    ["a YAML list", { extraAnsibleVars: "- a\n- b\n" }, "extraAnsibleVars", "Must be a mapping of variable names to values (lines like NAME: value), not a list."],
    ["a YAML scalar", { extraAnsibleVars: "just text" }, "extraAnsibleVars", "not a single value."],
    ["invalid YAML", { extraAnsibleVars: "A: 1\nB: [1, 2\nC: 3\n" }, "extraAnsibleVars", "Not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1."],
    ["a duplicate YAML key", { extraAnsibleVars: "A: 1\nA: 2\n" }, "extraAnsibleVars", "Map keys must be unique at line 2, column 1"],
    ["a YAML key that is no variable name", { extraAnsibleVars: "GOOD: 1\nbad-name: 2\n" }, "extraAnsibleVars", '"bad-name" is not a valid ansible variable name (line 2)'],
    ["the basic-auth password Ocim generates", { extraAnsibleVars: "GOOD: 1\nCOMMON_HTPASSWD_PASS: override123\n" }, "extraAnsibleVars",
      "COMMON_HTPASSWD_PASS is set by Ocim: the basic-auth login of every appserver comes from the instance's key, and Ocim's health checks, " +
      "the load balancer and the authenticated link send it. Remove it from these variables (line 2)."],
    ["an empty basic-auth user in the tutor recipe's name", { extraAnsibleVars: 'OCIM_BASIC_AUTH_USER: ""\n' }, "extraAnsibleVars", "OCIM_BASIC_AUTH_USER is set by Ocim"],
    ["an ansible-vault value, whose ciphertext would be sent as the value", { extraAnsibleVars: "A: 1\nDB_PASSWORD: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162636465\n" }, "extraAnsibleVars",
      "An ansible-vault value (line 2) cannot be used: Ocim has no vault password and would send the encrypted text as the value."],
    ["a tag the variables cannot keep", { extraAnsibleVars: 'PASSWORD: !unsafe "{{ not a template }}"\n' }, "extraAnsibleVars",
      "The YAML tag !unsafe (line 1) cannot be kept: Ocim sends plain values (text, numbers, true/false, lists, mappings) to the playbook. Remove the tag."],
    ["a python object", { extraAnsibleVars: 'X: !!python/object/apply:os.system ["id"]\n' }, "extraAnsibleVars", "The YAML tag tag:yaml.org,2002:python/object/apply:os.system (line 1) cannot be kept"],
    ["a Tutor setting at the top level of a tutor instance", { extraAnsibleVars: "TUTOR_CONFIG:\n  PLATFORM_NAME: Campus\nLANGUAGE_CODE: fr\n" }, "extraAnsibleVars",
      'LANGUAGE_CODE (line 3) is a Tutor setting: the tutor recipe takes Tutor\'s settings inside TUTOR_CONFIG, indented on the lines under "TUTOR_CONFIG:" or as TUTOR_CONFIG: { LANGUAGE_CODE: … }.'],
    ["an openedx/configuration variable on a tutor instance", { extraAnsibleVars: "EDXAPP_LMS_BASE: lms.other.org\n" }, "extraAnsibleVars",
      "EDXAPP_LMS_BASE (line 1) is an openedx/configuration variable, which the tutor recipe does not read: its playbook reads TUTOR_CONFIG (Tutor's settings) and Ocim's own OCIM_TUTOR_… variables only."],
    ["a name the tutor playbook does not read", { extraAnsibleVars: "ansible_python_interpreter: /usr/bin/python3\nMY_FLAG: true\n" }, "extraAnsibleVars", "MY_FLAG (line 2) is not read by the tutor recipe"],
    ["a TUTOR_CONFIG that is an alias of a list", { extraAnsibleVars: "OCIM_TUTOR_PLUGINS: &p [mfe]\nTUTOR_CONFIG: *p\n" }, "extraAnsibleVars", "TUTOR_CONFIG (line 2) must be a mapping of Tutor settings (such as TUTOR_CONFIG: { LANGUAGE_CODE: fr }), not a list:"],
    ["a TUTOR_CONFIG that is not a mapping", { extraAnsibleVars: "TUTOR_CONFIG: oops\n" }, "extraAnsibleVars",
      "TUTOR_CONFIG (line 1) must be a mapping of Tutor settings (such as TUTOR_CONFIG: { LANGUAGE_CODE: fr }), not a single value: it would replace every setting Ocim writes there (hosts, the instance's secrets and databases)."],
    ["a plugin list that is not a list", { extraAnsibleVars: "OCIM_TUTOR_PLUGINS: mfe\n" }, "extraAnsibleVars", "OCIM_TUTOR_PLUGINS (line 1) must be a list, as Ocim generates it"],
    ["TUTOR_CONFIG on a native instance", { recipe: "native", openedxRelease: "quince", extraAnsibleVars: "EDXAPP_LMS_BASE: x.org\nTUTOR_CONFIG:\n  LMS_HOST: x.org\n" }, "extraAnsibleVars",
      "TUTOR_CONFIG (line 2) is read by the tutor recipe only"],
    ["a name ansible reads as a boolean", { extraAnsibleVars: "yes: 1\n" }, "extraAnsibleVars", '"yes" is not a valid ansible variable name (line 1) (ansible reads it as the boolean true)'],
    ["a branch with a command", { edxPlatformBranch: "master;rm -rf ~" }, "edxPlatformBranch", 'Contains ";"'],
    ["a branch with $()", { configurationBranch: "$(reboot)" }, "configurationBranch", 'Contains "$"'],
    ["a branch with a backquote", { edxPlatformBranch: "a`id`" }, "edxPlatformBranch", 'Contains "`"'],
    ["a branch with a space", { edxPlatformBranch: "my branch" }, "edxPlatformBranch", "Contains a space"],
    ["a branch with a line break", { edxPlatformBranch: "a\nb" }, "edxPlatformBranch", "Contains a line break"],
    ["a branch that looks like an option", { configurationBranch: "--upload-pack=touch /tmp/x" }, "configurationBranch", 'A branch name must not start with "-".'],
    ["a branch with ..", { edxPlatformBranch: "a..b" }, "edxPlatformBranch", 'Must not contain "..".'],
    ["a branch ending in .lock", { edxPlatformBranch: "feature.lock" }, "edxPlatformBranch", 'end with ".lock"'],
    ["a release with a quote", { openedxRelease: "o'reilly" }, "openedxRelease", `Contains "'"`],
    ["a plain http repository", { edxPlatformRepoUrl: "http://github.com/openedx/edx-platform.git" }, "edxPlatformRepoUrl", "Use https:// (plain http:// is not allowed)."],
    ["a repository URL with shell syntax", { configurationRepoUrl: "https://github.com/x/y.git;id" }, "configurationRepoUrl", 'Contains ";"'],
    ["an ssh URL whose host is an option", { configurationRepoUrl: "git@-oProxyCommand=id:x/y" }, "configurationRepoUrl", "Enter a repository URL of the form"],
    ["an ext:: transport", { configurationRepoUrl: "ext::sh -c id" }, "configurationRepoUrl", "Contains a space"],
    ["an absolute playbook", { playbookPath: "/etc/passwd.yml" }, "playbookPath", "Enter a path relative to the configuration repository"],
    ["a playbook outside the repository", { playbookPath: "playbooks/../../x.yml" }, "playbookPath", 'The path must stay inside the repository (no "..").'],
    ["a playbook with shell syntax", { playbookPath: "play$(id).yml" }, "playbookPath", "no spaces or shell characters"],
    ["a playbook path with an empty folder", { playbookPath: "playbooks//site.yml" }, "playbookPath", "Use one / between folders, as in playbooks/site.yml."],
    ["an appserver count that is no number", { appserverCount: "two" }, "appserverCount", "Enter a whole number from 1 to 10."],
    ["too many appservers", { appserverCount: "11" }, "appserverCount", "Enter a whole number from 1 to 10."],
    ["no appservers", { appserverCount: "0" }, "appserverCount", "Enter a whole number from 1 to 10."],
    ["a blank appserver count", { appserverCount: " " }, "appserverCount", "This field is required."],
    ["an unknown provider", { providerKind: "aws" }, "providerKind", "Choose one of: local, openstack."],
    ["a load balancer that does not exist", { loadBalancerId: "999" }, "loadBalancerId", "This load balancer does not exist (any more); choose another."],
    ["a load balancer id that is no number", { loadBalancerId: "x" }, "loadBalancerId", "Enter a whole number"],
    ["a pull request over http", { pullRequestUrl: "http://github.com/o/r/pull/12" }, "pullRequestUrl", "Enter the pull request's https:// URL, ending in /pull/<number>."],
    ["a pull request URL without a number", { pullRequestUrl: "https://github.com/o/r/pulls" }, "pullRequestUrl", "ending in /pull/<number>"],
    ["a pull request state without a URL", { pullRequestState: "merged" }, "pullRequestState", "A state needs a pull request URL"],
    ["an unknown pull request state", { pullRequestUrl: "https://github.com/o/r/pull/1", pullRequestState: "draft" }, "pullRequestState", "Choose one of: open, closed, merged."],
    ["an archived flag that is not yes/no", { isArchived: "maybe" }, "isArchived", "Expected yes or no."],
    ["an unknown recipe", { recipe: "ansible" }, "recipe", "Choose one of: tutor, native, custom."],
    ["a release after quince for native", { recipe: "native", openedxRelease: "ulmo" }, "openedxRelease",
      "openedx/configuration stops at quince (the repository is archived): for ulmo, use the tutor recipe, or choose one of maple, nutmeg, olive, palm, quince."],
    ["native with the default release (ulmo)", { recipe: "native" }, "openedxRelease", "for ulmo, use the tutor recipe"],
    ["a release native does not know", { recipe: "native", openedxRelease: "master" }, "openedxRelease", "The native recipe installs a release up to quince"],
    ["a git ref as a tutor release", { recipe: "tutor", openedxRelease: "master" }, "openedxRelease",
      "The tutor recipe installs a named Open edX release: choose one of quince, redwood, sumac, teak, ulmo."],
    ["a storage service for ulmo, which no Tutor S3 plugin supports yet", { recipe: "tutor", openedxRelease: "ulmo", storageServiceId: "1" }, "storageServiceId",
      "no release of tutor-contrib-s3 (the Tutor plugin for S3 storage) supports Tutor 21 (ulmo) yet. Pick an earlier release (quince, redwood, sumac, teak) or remove the storage service from the instance."],
    ["a release before quince for tutor", { recipe: "tutor", openedxRelease: "palm" }, "openedxRelease",
      "The tutor recipe installs quince and later (Tutor 17+): for palm, use the native recipe, or choose one of quince, redwood, sumac, teak, ulmo."],
    ["a plugin with a version and shell syntax", { tutorPlugins: "mfe\nindigo=tutor-indigo==21.0;id" }, "tutorPlugins", '"indigo=tutor-indigo==21.0;id" is not a plugin entry'],
    ["a plugin URL without its name", { tutorPlugins: "git+https://github.com/x/y" }, "tutorPlugins", "is not a plugin entry"],
    ["a plugin that looks like an option", { tutorPlugins: "--index-url" }, "tutorPlugins", "is not a plugin entry"],
    ["a pip requirement that looks like an option", { tutorPlugins: "x=--index-url=https://evil.test" }, "tutorPlugins", "is not a plugin entry"],
    ["a plugin twice, once with its requirement", { tutorPlugins: "indigo\nindigo=tutor-indigo>=21.0.0" }, "tutorPlugins", '"indigo=tutor-indigo>=21.0.0" is listed twice'],
    ["a plugin twice", { tutorPlugins: "mfe\nMFE" }, "tutorPlugins", '"MFE" is listed twice'],
    ["too many plugins", { tutorPlugins: Array.from({ length: 31 }, (_, i) => `plugin${i}`).join("\n") }, "tutorPlugins", "Enter at most 30 lines (this has 31)."],
    ["plugins for the native recipe", { recipe: "native", openedxRelease: "quince", tutorPlugins: "mfe" }, "tutorPlugins", "Only the tutor recipe installs Tutor plugins; this instance uses the native recipe."],
  ];

  it.each(refusals)("refuses %s with a message next to the field, keeps the input, and writes nothing", async (_what, fields, field, message) => {
    await makeInstance(t.deps, { name: "Existing" });
    const before = await snapshot();
    const res = await admin.submit("/admin/instances/add", form(fields));
    expect(res.status).toBe(400);
    const text = visibleText(res.text);
    expect(text).toContain("Please correct the errors below. Nothing was saved.");
    expect(fieldError(res.text, field), `an error under ${field}`).toContain(message);
    // What was typed is still in the form (a checkbox can only show checked or not).
    const typed = fields[field];
    if (typeof typed === "string" && typed.trim() && field !== "isArchived") expect(res.text).toContain(escapeHtml(typed));
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a domain that another instance uses, naming it, in any column", async () => {
    const other = await makeInstance(t.deps, { name: "Other School", internalLmsDomain: "lms.other.org", externalDomains: ["learn.other.org"] });
    const before = await snapshot();
    const same = await admin.submit("/admin/instances/add", form({ internalLmsDomain: "lms.other.org" }));
    expect(same.status).toBe(400);
    expect(visibleText(same.text)).toContain('lms.other.org is already used by instance "Other School" (its LMS domain).');
    const external = await admin.submit("/admin/instances/add", form({ externalDomains: "studio.lms.other.org" }));
    expect(visibleText(external.text)).toContain('studio.lms.other.org is already used by instance "Other School" (its Studio domain).');
    const override = await admin.submit("/admin/instances/add", form({ discoveryDomain: "learn.other.org" }));
    expect(visibleText(override.text)).toContain('learn.other.org is already used by instance "Other School" (its external domain).');
    // A derived domain collides too: this LMS domain's studio. is the other's external domain.
    await t.deps.db.instance.update({ where: { id: other.id }, data: { externalDomains: ["studio.lms.new.org"] } });
    const derived = await admin.submit("/admin/instances/add", form({ internalLmsDomain: "lms.new.org" }));
    expect(visibleText(derived.text)).toContain('studio.lms.new.org is already used by instance "Other School" (its external domain).');
    expect((await snapshot()).instances.length).toBe(before.instances.length);
  });

  it("changes an instance: a blank prefixed domain follows the new LMS domain, an override stays; history shows the diff", async () => {
    await admin.submit("/admin/instances/add", form({ recipe: "native", openedxRelease: "quince", studioDomain: "cms.demo.example.com", extraAnsibleVars: "EDXAPP_FOO: 1\nMYSQL_PASSWORD: hunter2\n" }));
    const instance = await t.deps.db.instance.findFirstOrThrow();
    const edit = await admin.submit(`/admin/instances/${instance.id}`, form({
      name: "Demo U", internalLmsDomain: "lms.demo-u.org", studioDomain: "cms.demo.example.com", recipe: "native", openedxRelease: "quince",
      extraAnsibleVars: "EDXAPP_FOO: 2\nMYSQL_PASSWORD: correct-horse\n", appserverCount: "3", _save: "continue",
    }));
    expect(edit.url).toBe(`${t.url}/admin/instances/${instance.id}`);
    expect(visibleText(edit.text)).toContain('The instance "Demo U" was saved.');
    const after = await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(after).toMatchObject({ slug: "demo-university", previewDomain: "preview.lms.demo-u.org", studioDomain: "cms.demo.example.com", appserverCount: 3 });

    const history = await admin.get(`/admin/instances/${instance.id}/history`);
    const text = visibleText(history.text);
    expect(text).toContain("Instance settings changed by root");
    expect(text).toContain("Instance added by root");
    expect(text).toMatch(/LMS domain lms\.demo\.example\.com lms\.demo-u\.org/);
    expect(text).toMatch(/Appserver count 1 3/);
    expect(text).toContain("MYSQL_PASSWORD: ••••••");
    expect(history.text).not.toContain("hunter2");
    expect(history.text).not.toContain("correct-horse");
  });

  it("shows history readably: words for the action, names instead of ids, line diffs for variables, secrets masked", async () => {
    const lb = await makeLoadBalancer(t.deps, { name: "haproxy-eu-1" });
    await admin.submit("/admin/instances/add", form({ name: "Readable", internalLmsDomain: "lms.readable.org", recipe: "custom", extraAnsibleVars: "A: 1\nB: 2\nSMTP_PASSWORD: first-secret-9\nC: 3\n" }));
    const instance = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Readable" } });
    await admin.submit(`/admin/instances/${instance.id}`, form({
      name: "Readable", internalLmsDomain: "lms.readable.org", recipe: "custom", loadBalancerId: String(lb.id),
      extraAnsibleVars: "A: 1\nB: 20\nSMTP_PASSWORD: second-secret-7\nC: 3\n",
    }), `/admin/instances/${instance.id}`);
    // What the lifecycle's succeeded transition records (src/domain/appservers/lifecycle.ts).
    const as = await makeAppServer(t.deps, instance.id);
    await t.deps.db.auditEvent.create({ data: { actorLogin: "ocim", action: "appserver.succeeded", subjectType: "AppServer", subjectId: String(as.id), subjectName: "Readable / AppServer 1", diff: { status: ["configuring", "running"] } } });

    const history = await admin.get(`/admin/instances/${instance.id}/history`);
    const text = visibleText(history.text);
    expect(text).toContain("Instance settings changed by root");
    expect(text).toContain("Load balancer — haproxy-eu-1");
    expect(text).not.toMatch(new RegExp(`Load balancer — ${lb.id}\\b`));
    const diff = history.text.match(/<pre class="value-block line-diff">([\s\S]*?)<\/pre>/)![1]!;
    expect([...diff.matchAll(/<span class="line-(\w+)">([^<]*)<\/span>/g)].map((m) => `${m[1]} ${decodeHtml(m[2]!)}`.trim())).toEqual([
      "same   A: 1", "removed - B: 2", "removed - SMTP_PASSWORD: ••••••", "added + B: 20", "added + SMTP_PASSWORD: •••••• (changed)", "same   C: 3", "same",
    ]);
    expect(history.text).not.toContain("first-secret-9");
    expect(history.text).not.toContain("second-secret-7");
    const events = visibleText((await admin.get("/admin/audit-events?type=AppServer")).text);
    expect(events).toContain("ocim Status → running AppServer Readable / AppServer 1 Status");
  });

  it("shows each event's fields by their labels in the form's order, not internal keys or an id beside its name", async () => {
    await admin.submit("/admin/instances/add", form({ name: "Ordered", internalLmsDomain: "lms.ordered.org", tags: "pilot" }));
    const instance = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Ordered" } });
    const first = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "root" } });
    await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "root" }, relaunchOf: { id: first.id, name: first.name } });

    const history = await admin.get(`/admin/instances/${instance.id}/history`);
    const [relaunched, launched, added] = historyEvents(history.text);
    expect([relaunched!.action, launched!.action, added!.action]).toEqual(["AppServer launched", "AppServer launched", "Instance added"]);
    expect(launched!.fields).toEqual(["AppServer"]);
    expect(relaunched!.fields).toEqual(["AppServer", "Relaunch of"]);
    expect(visibleText(history.text)).toContain("AppServer — AppServer 2 Relaunch of — AppServer 1");

    // The form's fields first, as the form orders them; then the other settings, by name.
    const inForm = formLabels((await admin.get(`/admin/instances/${instance.id}`)).text);
    const shownInForm = added!.fields.filter((f) => inForm.includes(f));
    expect(shownInForm).toEqual(expect.arrayContaining(["Name", "Tags", "LMS domain", "Apps domain", "Recipe", "Playbook"]));
    expect(added!.fields.slice(0, shownInForm.length)).toEqual(inForm.filter((f) => shownInForm.includes(f)));
    const others = added!.fields.slice(shownInForm.length);
    expect(others).toContain("Slug");
    expect(others).toEqual([...others].sort((a, b) => a.localeCompare(b)));
    // No stored key shows as it is (slug, sortName), and the internal sort key not at all.
    expect(added!.fields.filter((f) => /^[a-z]+(?:[A-Z]|$)/.test(f))).toEqual([]);
    expect(added!.fields.filter((f) => /sort/i.test(f))).toEqual([]);

    // An event recorded before the sort key was left out of instances' audit views does not show it either.
    const old = await t.deps.db.auditEvent.create({ data: {
      actorLogin: "root", action: "instance.updated", subjectType: "Instance", subjectId: String(instance.id), subjectName: "Ordered",
      diff: { name: ["Ordered", "Ordered II"], sortName: ["ordered", "ordered ii"] },
    } });
    expect(changedFields((await admin.get(`/admin/audit-events/${old.id}`)).text)).toEqual(["Name"]);

    // The audit event's own page shows the launch the same way.
    const event = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "appserver.launched", subjectId: String(instance.id) }, orderBy: { id: "desc" } });
    const page = await admin.get(`/admin/audit-events/${event.id}`);
    expect(changedFields(page.text)).toEqual(["AppServer", "Relaunch of"]);
  });

  it("refuses a bad change with the messages, keeps the input and the database as they were", async () => {
    const instance = await makeInstance(t.deps, { name: "Stable" });
    await makeInstance(t.deps, { name: "Neighbour", internalLmsDomain: "lms.neighbour.org" });
    const before = await snapshot();
    const res = await admin.submit(`/admin/instances/${instance.id}`, form({ name: "Renamed", internalLmsDomain: "lms.neighbour.org", extraAnsibleVars: "[1, 2]" }));
    expect(res.status).toBe(400);
    const text = visibleText(res.text);
    expect(text).toContain('lms.neighbour.org is already used by instance "Neighbour" (its LMS domain).');
    expect(text).toContain("not a list");
    expect(res.text).toContain('value="Renamed"');
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a form posted without its security token, and writes nothing", async () => {
    const res = await admin.post("/admin/instances/add", form());
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain("missing or wrong security token");
    expect(await t.deps.db.instance.count()).toBe(0);
  });

  it("answers an unknown or malformed instance id with a 404 page", async () => {
    for (const path of ["/admin/instances/424242", "/admin/instances/abc", "/admin/instances/424242/history", "/admin/instances/424242/delete"]) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(404);
      expect(visibleText(res.text)).toMatch(/There is no instance with the id/);
    }
    const post = await admin.submit("/admin/instances/424242", form(), "/admin/instances");
    expect(post.status).toBe(404);
    expect(await t.deps.db.instance.count()).toBe(0);
  });

  it("deletes an instance with its terminated appservers and their log lines, after a confirmation that lists them", async () => {
    const instance = await makeInstance(t.deps, { name: "Old Site" });
    const server = await makeAppServer(t.deps, instance.id, { status: "terminated" });
    await makeAppServer(t.deps, instance.id, { status: "terminated" });
    await t.deps.db.logEntry.createMany({ data: [1, 2, 3].map((seq) => ({ appServerId: server.id, seq, text: `line ${seq}` })) });
    await t.deps.db.logEntry.create({ data: { instanceId: instance.id, seq: 1, text: "instance line" } });
    const confirm = await admin.get(`/admin/instances/${instance.id}/delete`);
    expect(confirm.status).toBe(200);
    const text = visibleText(confirm.text);
    expect(text).toContain("Delete instance Old Site?");
    expect(text).toContain("2 appservers (all terminated)");
    expect(text).toContain("4 log entries");
    const done = await admin.submit(`/admin/instances/${instance.id}/delete`, {}, `/admin/instances/${instance.id}/delete`);
    expect(done.url).toBe(`${t.url}/admin/instances`);
    expect(visibleText(done.text)).toContain("Deleted 1 instance.");
    expect(await t.deps.db.instance.count()).toBe(0);
    expect(await t.deps.db.appServer.count()).toBe(0);
    expect(await t.deps.db.logEntry.count()).toBe(0);
    const audit = await t.deps.db.auditEvent.findFirstOrThrow({ where: { action: "instance.deleted" } });
    expect(audit).toMatchObject({ subjectName: "Old Site", actorLogin: "root" });
  });

  it("refuses to delete an instance whose appservers are not all terminated, saying which", async () => {
    const instance = await makeInstance(t.deps, { name: "Live Site" });
    await makeAppServer(t.deps, instance.id, { status: "running", isActive: true });
    await makeAppServer(t.deps, instance.id, { status: "terminated" });
    const confirm = await admin.get(`/admin/instances/${instance.id}/delete`);
    expect(visibleText(confirm.text)).toContain("This cannot be deleted now.");
    expect(visibleText(confirm.text)).toContain("1 appserver is not terminated: AppServer 1 (running). Terminate it first.");
    expect(confirm.text).not.toContain("Yes, delete");
    const before = await snapshot();
    const forced = await admin.submit(`/admin/instances/${instance.id}/delete`, {}, `/admin/instances/${instance.id}`);
    expect(forced.status).toBe(409);
    expect(visibleText(forced.text)).toContain('Cannot delete: AppServer 1 of "Live Site" (running) is not terminated. Terminate it first; nothing was deleted.');
    expect(await snapshot()).toEqual(before);
    expect(await t.deps.db.appServer.count()).toBe(2);
  });

  it("keeps tags lowercased, one per line, refuses a malformed or repeated one, and filters the list by a tag", async () => {
    await admin.submit("/admin/instances/add", form({ tags: "Pilot\r\n\r\ncustomer-x\r\n" }));
    const created = await t.deps.db.instance.findFirstOrThrow();
    expect(created.tags).toEqual(["pilot", "customer-x"]);
    const bad = await admin.submit(`/admin/instances/${created.id}`, form({ tags: "pilot\r\nnot a tag" }));
    expect(fieldError(bad.text, "tags")).toBe('"not a tag" is not a tag: use lowercase letters, digits, -, _ and dots, starting with a letter or digit.');
    const twice = await admin.submit(`/admin/instances/${created.id}`, form({ tags: "pilot\r\nPILOT" }));
    expect(fieldError(twice.text, "tags")).toBe('"pilot" is listed twice; list each tag once.');
    expect((await t.deps.db.instance.findFirstOrThrow()).tags).toEqual(["pilot", "customer-x"]);
    await admin.submit("/admin/instances/add", form({ name: "Other University", internalLmsDomain: "lms.other.example.com" }));
    const list = visibleText((await admin.get("/admin/instances?tag=customer-x")).text);
    expect(list).toContain("Demo University");
    expect(list).not.toContain("Other University");
  });
});
