// A tutor-recipe launch through the real provisioning job on a local VM: the clone step uploads
// the playbook shipped with Ocim (no repository to clone), the start step runs it, and the
// playbook stops at its first task on this Debian machine (the extra variables make the VM say
// so whatever machine runs the test), before it could install anything here.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { STEPS } from "../src/domain/provisioning/steps.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { waitFor } from "./helpers/wait.js";

describe("provisioning a tutor-recipe appserver", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let workers: RunningWorkers;

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env);
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  });
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await deps?.close();
  });

  it("uploads Ocim's tutor playbook in the clone step and runs it, which refuses a VM that is not Ubuntu LTS", async () => {
    const instance = await makeInstance(deps, {
      recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo", configurationRepoUrl: "", configurationBranch: "",
      extraAnsibleVars: "ansible_distribution: Debian\nansible_distribution_version: '12'\n",
    });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const done = await waitFor("the appserver to stop provisioning", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 180_000, 500);
    const lines = (await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } })).map((l) => l.text);
    expect(done.status, lines.join("\n")).toBe("failed");
    expect(done.failureSummary).toContain("The tutor recipe runs on Ubuntu LTS (22.04, 24.04…); this VM runs Debian 12.");
    expect(lines, lines.join("\n")).toContain("[ocim] Uploading Ocim's tutor playbook (3 files).");
    expect(lines.some((l) => l.startsWith("[ocim] Cloning"))).toBe(false);
    const steps = await deps.db.appServerStep.findMany({ where: { appServerId: as.id }, orderBy: { position: "asc" } });
    expect(steps.map((s) => [s.name, s.outcome]).slice(0, 7)).toEqual([
      ["prepare-data", "done"], ["create-vm", "done"], ["wait-vm", "done"], ["upload-vars", "done"], ["clone", "done"], ["start-playbook", "done"], ["tail", "done"],
    ]);
    expect(STEPS.find((s) => s.name === "clone")!.label).toBe("Clone the configuration repository (or upload the playbook shipped with Ocim)");
    // The files on the VM are the project's own, where the start step runs the playbook from.
    const vm = await vms.provider().getServer(done.providerServerId!);
    const repo = path.join(vm!.workDir!, "configuration");
    expect(readFileSync(path.join(repo, "site.yml"), "utf8")).toBe(readFileSync("playbooks/tutor/site.yml", "utf8"));
    expect(readFileSync(path.join(repo, "templates/ocim.py.j2"), "utf8")).toBe(readFileSync("playbooks/tutor/templates/ocim.py.j2", "utf8"));
  }, 240_000);
});
