// Faults during provisioning: each ends in a clear status and message, nothing hangs past its
// deadline, no VM is leaked. Real sshd/ansible for the VM side; OpenStack's API is an in-test server.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo } from "./helpers/git-repo.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";
import { jobEnded, waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { cancelAppServer } from "../src/domain/appservers/cancel-appserver.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

const actor = { id: null, login: "tester" };
const PLAYBOOKS = {
  // Prints its PLAY/TASK headers, then nothing for a long time.
  "playbooks/silent.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say nothing\n      ansible.builtin.command: sleep 313\n",
  "playbooks/long.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Count\n      ansible.builtin.debug:\n        msg: \"{{ item }}\"\n      loop: \"{{ range(0, 2000) | list }}\"\n      loop_control:\n        pause: 0.05\n",
};

describe("provisioning faults", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let workers: RunningWorkers;
  let repo: ReturnType<typeof makeGitRepo>;
  let cloud: FakeOpenstack;

  beforeAll(async () => {
    vms = await localVms();
    cloud = await new FakeOpenstack().start();
    deps = await createTestDeps({ ...vms.env, PLAYBOOK_LINE_TIMEOUT_MINUTES: "0.05", VM_READY_TIMEOUT_MINUTES: "0.05", PROVISIONING_ATTEMPTS: "3", JOB_RETRY_DELAY_SECONDS: "0.2" });
    repo = makeGitRepo(PLAYBOOKS);
    await deps.db.providerAccount.create({
      data: {
        name: "test cloud", kind: "openstack",
        settings: { authUrl: cloud.authUrl, projectName: cloud.projectName, flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key" },
        credentialsEncrypted: deps.secrets.encrypt(JSON.stringify({ username: cloud.username, password: cloud.password, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n" })),
      },
    });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  });
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await cloud?.stop();
    await deps?.close();
    rmSync(repo.dir, { recursive: true, force: true });
  });

  const finished = (id: number, timeoutMs = 120_000) =>
    waitFor("the appserver to end provisioning", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, timeoutMs, 300);

  async function launchPlaybook(playbookPath: string) {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath });
    return launchAppServer(deps, { instanceId: instance.id, actor });
  }

  it("fails a playbook that prints nothing for too long, and stops it on the VM", async () => {
    const as = await launchPlaybook("playbooks/silent.yml");
    const done = await finished(as.id);
    expect(done.status).toBe("failed");
    expect(done.failureSummary).toBe("The playbook printed nothing for 0.05 minutes.");
    const vm = await vms.provider().getServer(done.providerServerId!);
    const session = await vms.connect(vm!);
    // The bracket keeps pgrep from matching its own command line.
    const ps = await session.exec("pgrep -f 'slee[p] 313' || echo none");
    expect(ps.stdout.trim()).toBe("none");
  });

  it("cancels a running playbook from the console: failed, playbook stopped, VM kept", async () => {
    const as = await launchPlaybook("playbooks/long.yml");
    await waitFor("playbook lines", async () => (await deps.db.logEntry.count({ where: { appServerId: as.id, text: { startsWith: "ok: [localhost] => (item=5)" } } })) > 0, 60_000);
    await cancelAppServer(deps, { appServerId: as.id, actor });
    const lines = () => deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
    const said = "Provisioning was cancelled; the playbook was stopped on the VM. The VM is kept.";
    await waitFor("the job to stop the playbook", async () => (await lines()).some((l) => l.text.includes(said)), 30_000);
    // The cancel's own follow-up (stop-playbook) runs too: whichever stopped it says so, once.
    const followUp = await waitFor("the stop-playbook row to be sent", async () =>
      (await deps.db.outboxMessage.findFirst({ where: { kind: "stop-playbook", payload: { equals: { appServerId: as.id } }, sentAt: { not: null } } })) ?? undefined, 30_000);
    await jobEnded(deps.jobs.queue("actions"), `outbox-${followUp.id}`);
    expect((await lines()).filter((l) => l.text.startsWith("[ocim] Provisioning was cancelled")).map((l) => l.text)).toEqual([`[ocim] ${said}`]);
    const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    expect(row).toMatchObject({ status: "failed", failureSummary: "Cancelled by tester." });
    const vm = await vms.provider().getServer(row.providerServerId!);
    expect(vm?.status).toBe("ready");
    const session = await vms.connect(vm!);
    expect((await session.exec(`test -e ${vm!.workDir}/playbook.exit && echo exited || echo killed`)).stdout.trim()).toBe("killed");
  }, 150_000); // its own waits add up to 90 s: a launch and a clone before them under a loaded CI run

  it("puts an appserver whose VM never comes up in error and deletes the VM", async () => {
    cloud.buildPolls = 1_000_000;
    const instance = await makeInstance(deps, { providerKind: "openstack" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    const done = await finished(as.id);
    expect(done.status).toBe("error");
    expect(done.failureSummary).toBe("The provider was still building the VM after 0.05 minutes (VM_READY_TIMEOUT_MINUTES).");
    expect(cloud.servers.size === 0 || [...cloud.servers.values()].every((s) => s.status === "DELETED")).toBe(true);
    expect(cloud.requests.filter((r) => r.startsWith("DELETE /compute/"))).toHaveLength(1);
  });

  it("says where SSH did not answer when the VM came up but its SSH port stayed closed", async () => {
    cloud.buildPolls = 1;
    const closed = await freePort();
    const account = await deps.db.providerAccount.findFirstOrThrow({ where: { kind: "openstack" } });
    // A floating IP on this host (the fake's), whose SSH port nothing listens on: a security group that drops it, say.
    await deps.db.providerAccount.update({ where: { id: account.id }, data: { settings: { ...(account.settings as object), floatingNetwork: "public", sshPort: closed } } });
    try {
      const instance = await makeInstance(deps, { providerKind: "openstack" });
      const as = await launchAppServer(deps, { instanceId: instance.id, actor });
      const done = await finished(as.id);
      expect(done.status).toBe("error");
      expect(done.failureSummary).toBe(
        `The VM is up, but SSH at 127.0.0.1:${closed} did not answer within 0.05 minutes: check that its security group lets this host reach TCP ${closed}, and the provider account's SSH port.`,
      );
    } finally {
      await deps.db.providerAccount.update({ where: { id: account.id }, data: { settings: account.settings as object } });
    }
  });

  it("retries a cloud API that answers 500, then gives up with the reason and no VM made", async () => {
    cloud.fault("nova", { status: 500, times: 100 });
    const instance = await makeInstance(deps, { providerKind: "openstack" });
    const before = cloud.servers.size;
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    const done = await finished(as.id);
    expect(done.status).toBe("error");
    expect(done.failureSummary).toMatch(/500/);
    const job = await jobEnded(deps.jobs.queue("provisioning"), `provision-${as.id}`);
    expect(job.attemptsMade).toBe(3);
    expect(cloud.servers.size).toBe(before);
  });
});
