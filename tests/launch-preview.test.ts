// "Preview launch" on the instance page: what a launch would send now (recipe, playbook, masked
// variables) and what differs from the active appserver, read without writing anything.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { playbookView, previewLaunch } from "../src/domain/recipes/preview-launch.js";
import { createMasker } from "../src/domain/secrets/mask-secrets.js";

const SECRET = "mail-secret-8731";
const NEW_SECRET = "mail-secret-9902";

function mainText(html: string): string {
  return visibleText(html.match(/<main class="content"[^>]*>([\s\S]*?)<\/main>/)?.[1] ?? "");
}

/** The rows of the difference table, as "NAME change before after". */
function diffRows(html: string): string[] {
  const table = html.match(/<table class="table variables-diff">([\s\S]*?)<\/table>/)?.[1] ?? "";
  return [...table.matchAll(/<tr class="(?:added|removed|changed)">([\s\S]*?)<\/tr>/g)].map((m) => visibleText(m[1]!));
}

describe("preview launch", () => {
  let t: TestApp;
  let operator: Agent;
  let admin: Agent;
  let instance: Awaited<ReturnType<typeof makeInstance>>;

  beforeAll(async () => {
    t = await startTestApp();
    operator = await t.loginAs("olga");
    admin = await t.loginAs("abe", { admin: true });
  });
  afterAll(() => t.close());

  beforeEach(async () => {
    await t.deps.db.appServer.deleteMany();
    await t.deps.db.instance.deleteMany();
    instance = await makeInstance(t.deps, {
      name: "Harbor", slug: "harbor",
      extraAnsibleVars: `EDXAPP_PLATFORM_NAME: Harbor\nEDXAPP_EMAIL_HOST_PASSWORD: ${SECRET}\nOLD_FLAG: true\n`,
    });
  });

  /** A launched appserver (its real frozen snapshot) made the active one. */
  async function activeAppServer() {
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } });
    return t.deps.db.appServer.update({ where: { id: as.id }, data: { status: "running", isActive: true } });
  }

  it("is linked next to Launch new AppServer, for operators too", async () => {
    const page = await operator.get(`/instances/${instance.id}`);
    expect(page.text).toContain(`href="/instances/${instance.id}/preview-launch"`);
    expect(mainText(page.text)).toContain("Launch new AppServer Preview launch");
  });

  it("shows a changed extra variable as changed against the active appserver, and never a secret value", async () => {
    const active = await activeAppServer();
    await t.deps.db.instance.update({
      where: { id: instance.id },
      data: { extraAnsibleVars: `EDXAPP_PLATFORM_NAME: Harbor Learning\nEDXAPP_EMAIL_HOST_PASSWORD: ${NEW_SECRET}\nNEW_FLAG: 1\n` },
    });
    const { password } = basicAuthFor(t.deps.secrets, instance);
    for (const agent of [operator, admin]) {
      const page = await agent.get(`/instances/${instance.id}/preview-launch`);
      expect(page.status).toBe(200);
      const text = mainText(page.text);
      expect(text).toContain(`Against ${active.name}`);
      const rows = diffRows(page.text);
      expect(rows).toContain("EDXAPP_PLATFORM_NAME changed Harbor Harbor Learning");
      expect(rows).toContain("NEW_FLAG added — 1");
      expect(rows).toContain("OLD_FLAG removed true —");
      // A changed secret is said to have changed, without either value.
      expect(rows).toContain("EDXAPP_EMAIL_HOST_PASSWORD changed •••••• •••••• (changed)");
      // The next appserver's own hostname differs from the active one's: that is what a launch sends.
      expect(rows).toContain(`COMMON_HOSTNAME changed harbor-as1 harbor-as2`);
      expect(text).toContain("Recipe custom · Custom repository and playbook");
      expect(text).toContain("Playbook https://github.com/openedx/configuration.git @ master: playbooks/openedx_native.yml");
      expect(text).toContain("EDXAPP_EMAIL_HOST_PASSWORD: ••••••");
      for (const secret of [SECRET, NEW_SECRET, password]) expect(page.text).not.toContain(secret);
    }
  });

  it("says when the recipe or the playbook differ from the active appserver's", async () => {
    await activeAppServer();
    await t.deps.db.instance.update({ where: { id: instance.id }, data: { recipe: "native", openedxRelease: "quince", configurationBranch: "open-release/quince.master" } });
    const page = await operator.get(`/instances/${instance.id}/preview-launch`);
    const items = [...page.text.matchAll(/<li class="mono">([^<]*)<\/li>/g)].map((m) => visibleText(m[1]!));
    expect(items).toContain("recipe: custom → native");
    // The native recipe runs its installer's bootstrap under sudo -E.
    expect(items).toEqual(expect.arrayContaining(["bootstrap command: changed", "run under sudo: no → yes"]));
    expect(items.some((i) => i.startsWith("playbook: https://github.com/openedx/configuration.git @ master: ") && i.includes("@ open-release/quince.master: "))).toBe(true);
  });

  it("says when there is nothing to compare with, and when the JWT key is made at the first launch", async () => {
    const text = mainText((await operator.get(`/instances/${instance.id}/preview-launch`)).text);
    expect(text).toContain("What \"Launch new AppServer\" would send now, as AppServer 1 (VM harbor-as1). Nothing was launched or changed.");
    expect(text).toContain("No appserver is active: nothing to compare with.");
    expect(text).toContain("This instance has no JWT signing key yet: the first launch makes it");
  });

  it("writes nothing: no appserver number taken, no JWT key made, no row changed", async () => {
    const before = await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    await operator.get(`/instances/${instance.id}/preview-launch`);
    const preview = await previewLaunch(t.deps, { instance: "harbor" });
    expect(preview.appServerName).toBe("AppServer 1");
    expect(await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } })).toEqual(before);
    expect(before).toMatchObject({ jwtKeyEncrypted: "" });
    expect(await t.deps.db.appServer.count()).toBe(0);
  });

  it("names a shipped playbook by its place in the project, and masks a token in a repository URL", () => {
    const mask = createMasker([]);
    expect(playbookView({ repoUrl: "", branch: "", path: "site.yml", bootstrapCommand: "", shipped: "tutor", sudo: false }, mask).source)
      .toBe("shipped with Ocim: playbooks/tutor/site.yml");
    const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    const cloned = playbookView({ repoUrl: `https://${token}@github.com/o/configuration.git`, branch: "open-release/quince.master", path: "playbooks/openedx_native.yml", bootstrapCommand: "", sudo: true }, mask);
    expect(cloned.source).toBe("https://••••••@github.com/o/configuration.git @ open-release/quince.master: playbooks/openedx_native.yml");
    expect(JSON.stringify(cloned)).not.toContain(token);
  });

  it("answers an unknown instance with a 404 page", async () => {
    const page = await operator.get("/instances/987654/preview-launch");
    expect(page.status).toBe(404);
    expect(visibleText(page.text)).toContain('No instance "987654"');
  });
});
