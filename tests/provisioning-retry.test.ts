// One retry rule at the worker boundary (issue 11, defect 1): a refusal from the cloud fails the
// job at once with the provider's message on the appserver; a fault that may pass is retried with
// backoff and the appserver carries on. Real Redis/BullMQ and PostgreSQL; OpenStack is the in-test
// server; the "OpenStack VM" is a local VM (real sshd, real ansible) the fake cloud points at.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, SERVE_HEARTBEAT_PLAY } from "./helpers/git-repo.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";
import { jobEnded, waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

const actor = { id: null, login: "tester" };
const PLAYBOOK = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say hello\n      ansible.builtin.debug:\n        msg: hello from the VM\n" + SERVE_HEARTBEAT_PLAY;

describe("the retry rule of the provisioning job", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let workers: RunningWorkers;
  let repo: ReturnType<typeof makeGitRepo>;
  let cloud: FakeOpenstack;

  beforeAll(async () => {
    vms = await localVms();
    cloud = await new FakeOpenstack().start();
    deps = await createTestDeps({ ...vms.env, PROVISIONING_ATTEMPTS: "3", JOB_RETRY_DELAY_SECONDS: "0.2" });
    repo = makeGitRepo({ "playbooks/hello.yml": PLAYBOOK });
    // The machine Nova "creates": a local VM with a real sshd, reached with the account's key.
    const local = vms.provider();
    const target = await local.createServer({ name: "nova-target" });
    const ready = await waitFor("the target VM", async () => {
      const vm = await local.getServer(target.id);
      return vm?.status === "ready" ? vm : undefined;
    });
    const login = await local.sshLogin();
    cloud.floatingAddress = ready.publicIp!;
    await deps.db.providerAccount.create({
      data: {
        name: "test cloud", kind: "openstack",
        settings: {
          authUrl: cloud.authUrl, projectName: cloud.projectName, flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key",
          floatingNetwork: "public", sshUser: login.username, sshPort: ready.sshPort, workDir: ready.workDir,
        },
        credentialsEncrypted: deps.secrets.encrypt(JSON.stringify({ username: cloud.username, password: cloud.password, sshPrivateKey: login.privateKey })),
      },
    });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  }, 120_000);
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await cloud?.stop();
    await deps?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  const finished = (id: number) =>
    waitFor("the appserver to end provisioning", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 120_000, 200);
  const settledJob = (id: number) => jobEnded(deps.jobs.queue("provisioning"), `provision-${id}`);

  async function launch() {
    const instance = await makeInstance(deps, { providerKind: "openstack", configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/hello.yml" });
    return launchAppServer(deps, { instanceId: instance.id, actor });
  }

  it.each([
    { refusal: "Keystone refuses the credentials (401)", service: "keystone" as const, status: 401, message: "The request you have made requires authentication.", summary: 'OpenStack refused the credentials of provider account "test cloud" (401).' },
    { refusal: "Nova refuses an ambiguous network (409 NetworkAmbiguous)", service: "nova" as const, status: 409, message: "Multiple possible networks found, use a Network ID to be more specific.", summary: "Multiple possible networks found, use a Network ID to be more specific." },
  ])("makes exactly one attempt when $refusal, and says why on the appserver", async ({ service, status, message, summary }) => {
    cloud.fault(service, { status, message, times: 100 });
    try {
      const as = await launch();
      const done = await finished(as.id);
      expect(done.status).toBe("error");
      expect(done.failureSummary).toContain(summary);
      expect((await settledJob(as.id)).attemptsMade).toBe(1);
    } finally {
      cloud.clearFaults();
    }
  });

  it("retries a 503 from Nova, then the appserver carries on to running", async () => {
    cloud.fault("nova", { status: 503, message: "The server is currently unavailable.", times: 1 });
    const as = await launch();
    const done = await finished(as.id);
    expect(done.status, done.failureSummary).toBe("running");
    expect((await settledJob(as.id)).attemptsMade).toBe(2);
    const lines = await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
    expect(lines.some((l) => l.text.includes("hello from the VM"))).toBe(true);
    // The retry is in the appserver's own log, with what failed and when it is tried again.
    const retry = lines.find((l) => l.text.includes("Trying again"));
    expect(retry?.level).toBe("warn");
    expect(retry?.text).toMatch(/^\[ocim\] OpenStack answered 503 while .*: The server is currently unavailable\. Trying again in 0\.2 s \(attempt 2 of 3\)\.$/);
  });
});
