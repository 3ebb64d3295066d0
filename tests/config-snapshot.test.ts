// The frozen configuration is parsed with its versioned schema wherever it is read: rows written
// before the version field and rows written now both read; a corrupted one is a clear error on the
// page and in the job, not a crash further on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { readSnapshot } from "../src/domain/appservers/config-snapshot.js";
import { provisionAppServer } from "../src/domain/provisioning/provision-appserver.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { AppError } from "../src/errors.js";

// Exactly what launch stored before snapshots had a version (main before this change).
const VERSIONLESS = {
  instance: { id: 7, name: "Old site", slug: "old-site", internalLmsDomain: "old.example.test", edxPlatformBranch: "master" },
  playbook: { repoUrl: "https://github.com/openedx/configuration.git", branch: "master", path: "playbooks/edx_sandbox.yml", bootstrapCommand: "" },
  variables: { EDXAPP_LMS_NGINX_PORT: 8000, EDXAPP_PLATFORM_NAME: "Old" },
  providerKind: "local",
  launchedAt: "2026-11-20T12:00:00.000Z",
};

describe("the frozen configuration", () => {
  let t: TestApp;
  let admin: Agent;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.loginAs("ann", { admin: true });
  });
  afterAll(() => t?.close());

  it("reads a snapshot written before versions as version 1 (the custom recipe), and one written now", async () => {
    expect(readSnapshot(VERSIONLESS)).toEqual({ ...VERSIONLESS, version: 1, recipe: "custom", playbook: { ...VERSIONLESS.playbook, sudo: false } });
    const instance = await makeInstance(t.deps, { extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Now\n" });
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const stored = (await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } })).configSnapshot;
    expect(stored).toMatchObject({ version: 2, recipe: "custom" });
    const now = readSnapshot(stored);
    expect(now.instance.slug).toBe(instance.slug);
    expect(now.variables.EDXAPP_PLATFORM_NAME).toBe("Now");
    // An old row still shows on its page.
    await t.deps.db.appServer.update({ where: { id: as.id }, data: { configSnapshot: VERSIONLESS, status: "running", publicIp: "127.0.0.9" } });
    const page = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(page).toContain("Recipe custom");
    expect(page).toContain("Playbook playbooks/edx_sandbox.yml");
    expect(page).toContain(":8000/");
  });

  it("shows a tutor appserver's recipe and the playbook shipped with Ocim, run under sudo", async () => {
    const instance = await makeInstance(t.deps, { recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo" });
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const page = visibleText((await admin.get(`/appservers/${as.id}`)).text);
    expect(page).toContain("Recipe tutor");
    expect(page).toContain("Playbook shipped with Ocim: playbooks/tutor/site.yml");
    expect(page).toContain("Runs as root, with sudo -E ansible-playbook");
    expect(page).not.toContain("Configuration @");
  });

  it("refuses a corrupted snapshot with a message naming the field, on the page and in the job", async () => {
    expect(() => readSnapshot({ ...VERSIONLESS, playbook: "oops" }, "AppServer 3")).toThrow(
      new AppError("internal", "The frozen configuration of AppServer 3 cannot be read (playbook: Invalid input: expected object, received string).", { field: "playbook" }),
    );
    expect(() => readSnapshot({ ...VERSIONLESS, version: 9 })).toThrow("cannot be read (version:");
    expect(() => readSnapshot(null)).toThrow("cannot be read (the whole value:");

    const instance = await makeInstance(t.deps);
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    await t.deps.db.appServer.update({ where: { id: as.id }, data: { configSnapshot: { ...VERSIONLESS, variables: ["not", "a", "map"] } } });
    const message = "The frozen configuration of AppServer 1 cannot be read (variables: Invalid input: expected record, received array).";
    const res = await admin.get(`/appservers/${as.id}`);
    expect(res.status).toBe(200);
    expect(visibleText(res.text)).toContain(message);
    await expect(provisionAppServer(t.deps, { appServerId: as.id }, createProvisioningPorts(t.deps))).rejects.toThrow(message);
  });
});
