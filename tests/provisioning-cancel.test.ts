// A cancel that no job is watching (the worker stopped mid-playbook, the job waiting for its retry):
// the cancel's follow-up stops the playbook on the VM anyway, instead of leaving it reconfiguring
// the VM for hours. Real Redis/BullMQ, PostgreSQL, sshd and ansible (a local VM).
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { cancelAppServer } from "../src/domain/appservers/cancel-appserver.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { remotePaths } from "../src/domain/provisioning/remote.js";

const actor = { id: null, login: "tester" };
const LONG_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Say we started
      ansible.builtin.debug:
        msg: started
    - name: Take a long time
      ansible.builtin.command: sleep 600
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("cancelling an appserver whose playbook no job is watching", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let repo: ReturnType<typeof makeGitRepo>;
  let workers: RunningWorkers | undefined;

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps({ ...vms.env, JOB_LOCK_SECONDS: "5" });
    repo = makeGitRepo({ "playbooks/long.yml": LONG_PLAYBOOK });
  }, 120_000);
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await deps?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  it("stops the playbook on the VM and says so in the appserver's log", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/long.yml" });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    await waitFor("the playbook to be running", async () => {
      const tail = await deps.db.appServerStep.findFirst({ where: { appServerId: as.id, name: "tail" } });
      const lines = await deps.db.logEntry.count({ where: { appServerId: as.id, text: { contains: '"msg": "started"' } } });
      return Boolean(tail) && lines > 0;
    }, 120_000, 200);
    // Nobody watches the playbook any more: the worker stops (the playbook runs on, detached).
    await workers.close();
    workers = undefined;
    const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    const vm = await vms.provider().getServer(row.providerServerId!);
    const pid = Number(readFileSync(remotePaths(vm!.workDir).pid, "utf8"));
    expect(alive(pid)).toBe(true);

    await cancelAppServer(deps, { appServerId: as.id, actor });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });

    await waitFor("the cancel's log line", () =>
      deps.db.logEntry.findFirst({ where: { appServerId: as.id, text: { contains: "the playbook was stopped on the VM" } } }), 60_000, 200);
    await waitFor("the playbook's processes to end", async () => !alive(pid), 10_000, 100);
    const after = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    expect(after.status).toBe("failed");
    expect(after.failureSummary).toBe("Cancelled by tester.");
  }, 240_000);
});
