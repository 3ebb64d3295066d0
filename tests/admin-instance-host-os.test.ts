// The admin form and the OS of the local provider's VMs, which is this host's own (Deps.hostOs, read
// from /etc/os-release): a recipe that cannot run there is said by the Recipe field before the
// instance is saved, and again in the message after. It is a warning, not a refusal (the same
// settings launch on an Ubuntu host, or after a change of provider); the launch itself is refused,
// before any VM is made. The test app is given a Debian 12 host, so the test reads the same on any machine.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { createApiToken } from "../src/domain/auth/api-tokens.js";
import { readOsRelease } from "../src/adapters/provider/local-host-os.js";
import { recipeOsProblem, TUTOR_UBUNTU_VERSION } from "../src/domain/recipes/recipe-os.js";

const DEBIAN_12 = { id: "debian", versionId: "12", name: "Debian GNU/Linux 12 (bookworm)" };
const ADVICE = "so this instance cannot launch: choose the custom recipe with a playbook for this host (as the demo instance does), or the openstack provider with an Ubuntu image.";
const TUTOR_HERE = `The local provider's VMs run this host's OS (Debian GNU/Linux 12 (bookworm)), and the tutor recipe runs on Ubuntu LTS (22.04, 24.04…), ${ADVICE}`;
const NATIVE_HERE = `The local provider's VMs run this host's OS (Debian GNU/Linux 12 (bookworm)), and the native recipe runs on Ubuntu 20.04 only, ${ADVICE}`;

/** The warning under one form field, as a person reads it; null when there is none. */
function fieldWarning(html: string, field: string): string | null {
  const match = html.match(new RegExp(`<p class="field-warning" id="warn_${field}">([^<]*)</p>`));
  return match ? visibleText(match[1]!) : null;
}

/** What the add form sends with only a name and a domain typed in: every other field at its default. */
async function defaults(admin: Agent, name: string, domain: string): Promise<Record<string, string>> {
  const html = (await admin.get("/admin/instances/add")).text;
  const values: Record<string, string> = {};
  for (const [, field, value] of html.matchAll(/<input type="text" id="id_\w+" name="(\w+)" value="([^"]*)"/g)) values[field!] = value!;
  for (const [, field, body] of html.matchAll(/<select id="id_\w+" name="(\w+)"[^>]*>([\s\S]*?)<\/select>/g)) {
    values[field!] = body!.match(/<option value="([^"]*)" selected>/)?.[1] ?? "";
  }
  return { ...values, name, internalLmsDomain: domain };
}

describe("admin: an instance's recipe and the local provider's OS", () => {
  let t: TestApp;
  let admin: Agent;

  beforeAll(async () => {
    t = await startTestApp({}, { hostOs: DEBIAN_12 });
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(() => t?.close());

  it("warns by the Recipe field of the add form's defaults (tutor, local), and again once they are saved", async () => {
    const page = await admin.get("/admin/instances/add");
    expect(fieldWarning(page.text, "recipe")).toBe(TUTOR_HERE);

    const form = await defaults(admin, "Defaults Only", "lms.defaults.example.com");
    expect([form.recipe, form.providerKind]).toEqual(["tutor", "local"]);
    const saved = await admin.submit("/admin/instances/add", form);
    // Saved, and a warning of its own beside the saved message, in the warning's colour.
    expect(visibleText(saved.text)).toContain('The instance "Defaults Only" was added.');
    expect(visibleText(saved.text.match(/<div class="flash flash-warning"[^>]*>([^<]*)<\/div>/)?.[1] ?? "")).toBe(TUTOR_HERE);
    const instance = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Defaults Only" } });
    expect([instance.recipe, instance.providerKind]).toEqual(["tutor", "local"]);
    expect(fieldWarning((await admin.get(`/admin/instances/${instance.id}`)).text, "recipe")).toBe(TUTOR_HERE);

    // Native needs Ubuntu 20.04: the same warning, in its words (kept on a form that has an error).
    const native = await admin.submit("/admin/instances/add", { ...form, recipe: "native", openedxRelease: "quince", name: "" });
    expect(native.status).toBe(400);
    expect(fieldWarning(native.text, "recipe")).toBe(NATIVE_HERE);
  });

  it("says nothing for the custom recipe on local (the demo's), nor for tutor on openstack", async () => {
    const form = await defaults(admin, "Custom Site", "lms.custom.example.com");
    const custom = await admin.submit("/admin/instances/add", { ...form, recipe: "custom", openedxRelease: "main" });
    expect(visibleText(custom.text)).toContain('The instance "Custom Site" was added.');
    expect(visibleText(custom.text)).not.toContain("The local provider's VMs run");
    const saved = await t.deps.db.instance.findFirstOrThrow({ where: { name: "Custom Site" } });
    expect(fieldWarning((await admin.get(`/admin/instances/${saved.id}`)).text, "recipe")).toBeNull();

    const cloud = await admin.submit("/admin/instances/add", { ...form, name: "Cloud Site", internalLmsDomain: "lms.cloud.example.com", providerKind: "openstack" });
    expect(visibleText(cloud.text)).toContain('The instance "Cloud Site" was added.');
    expect(visibleText(cloud.text)).not.toContain("The local provider's VMs run");
  });

  it("refuses a launch it knows cannot run here before any VM is made, and the instance page says why where Launch is", async () => {
    const tutor = await makeInstance(t.deps, { recipe: "tutor", openedxRelease: "ulmo", providerKind: "local" });
    const page = await admin.get(`/instances/${tutor.id}`);
    expect(page.text).not.toContain(`action="/instances/${tutor.id}/launch"`);
    expect(page.text).toMatch(/<button type="button" class="button primary" disabled title="[^"]*">Launch new AppServer<\/button>/);
    expect(visibleText(page.text)).toContain(TUTOR_HERE);
    // Sent anyway (a page loaded before, the API): 409 with the same words, and no appserver, so no VM.
    const form = await admin.submit(`/instances/${tutor.id}/launch`, {}, `/instances/${tutor.id}`);
    expect(form.status).toBe(409);
    expect(visibleText(form.text)).toContain(TUTOR_HERE);
    const { token } = await createApiToken(t.deps, { githubLogin: "root", actor: { id: null, login: "test" } });
    const api = await t.agent().request("POST", `/api/v1/instances/${tutor.id}/appservers`, { headers: { authorization: `Bearer ${token}` }, json: {} });
    expect(api.status).toBe(409);
    expect(api.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: "rule", message: TUTOR_HERE });
    expect(await t.deps.db.appServer.count({ where: { instanceId: tutor.id } })).toBe(0);
    // Preview launch says the same, before its variables.
    expect(visibleText((await admin.get(`/instances/${tutor.id}/preview-launch`)).text)).toContain(`A launch now would be refused: ${TUTOR_HERE}`);

    // The same recipe on openstack, and the custom recipe here, launch as before.
    for (const fine of [{ recipe: "tutor" as const, openedxRelease: "ulmo", providerKind: "openstack" as const }, { recipe: "custom" as const, providerKind: "local" as const }]) {
      const inst = await makeInstance(t.deps, fine);
      expect((await admin.get(`/instances/${inst.id}`)).text).toContain(`action="/instances/${inst.id}/launch"`);
      expect(visibleText((await admin.get(`/instances/${inst.id}/preview-launch`)).text)).not.toContain("A launch now would be refused");
      const launched = await t.agent().request("POST", `/api/v1/instances/${inst.id}/appservers`, { headers: { authorization: `Bearer ${token}` }, json: {} });
      expect(launched.status).toBe(202);
    }
  });

  it("reads the host's OS from os-release, and the tutor recipe's Ubuntu versions are those its playbook asserts", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-os-"));
    try {
      writeFileSync(path.join(dir, "os-release"), 'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n');
      const ubuntu = readOsRelease(path.join(dir, "os-release"));
      expect(ubuntu).toEqual({ id: "ubuntu", versionId: "24.04", name: "Ubuntu 24.04.2 LTS" });
      expect(recipeOsProblem("tutor", ubuntu!)).toBeNull();
      expect(recipeOsProblem("native", ubuntu!)).toBe("the native recipe runs on Ubuntu 20.04 only");
      expect(readOsRelease(path.join(dir, "missing"))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const playbook = readFileSync(new URL("../playbooks/tutor/site.yml", import.meta.url), "utf8");
    expect(playbook).toContain(`ansible_distribution_version is match('${TUTOR_UBUNTU_VERSION.source}')`);
  });
});
