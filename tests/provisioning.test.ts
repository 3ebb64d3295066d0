// Launch → VM → playbook over SSH → running/failed, with the real local provider (sshd on
// loopback), real ansible-playbook, the demo playbook from a real git repository.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { jobEnded, waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { DEMO_BRANCH, DEMO_PLAYBOOK, ensureDemoRepo } from "../src/domain/instances/demo-repo.js";
import { createDemoInstance } from "../src/domain/instances/create-demo-instance.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { sample } from "./helpers/metrics.js";
import { readSnapshot } from "../src/domain/appservers/config-snapshot.js";

const actor = { id: null, login: "tester" };

describe("provisioning with the local provider and the demo playbook", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let workers: RunningWorkers;
  let repoUrl: string;

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env);
    repoUrl = await ensureDemoRepo(vms.dataDir);
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  });
  afterAll(async () => {
    await workers?.close();
    await vms?.cleanup();
    await deps?.close();
  });

  async function launch(extraAnsibleVars: string) {
    // The demo instance as `ocim demo` makes it, plus the test's variables.
    const demo = await createDemoInstance(deps, { actor });
    const instance = await deps.db.instance.update({ where: { id: demo.id }, data: { extraAnsibleVars: `${demo.extraAnsibleVars}${extraAnsibleVars}` } });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    const done = await waitFor("the appserver to finish provisioning", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 180_000, 500);
    // The job's log writer stores its last queued lines after the status changes: wait for its end.
    await jobEnded(deps.jobs.queue("provisioning"), `provision-${as.id}`);
    const lines = (await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } })).map((l) => l.text);
    return { instance, appServer: done, lines };
  }

  it("reaches running, with the playbook's recap in the log and /heartbeat answering through the authenticated link", async () => {
    const { instance, appServer, lines } = await launch("");
    expect(appServer.status, appServer.failureSummary).toBe("running");
    expect(appServer.vmStatus).toBe("ready");
    expect(appServer.publicIp).toMatch(new RegExp(`^${vms.addressPrefix.replaceAll(".", "\\.")}\\.\\d+$`));
    expect(lines.some((l) => l.startsWith("PLAY RECAP"))).toBe(true);
    expect(lines.some((l) => /localhost\s+: ok=\d+ .*failed=0/.test(l))).toBe(true);
    const auth = basicAuthFor(deps.secrets, instance);
    const url = `http://${appServer.publicIp}:8000/heartbeat`;
    const ok = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("OK");
    expect((await fetch(url)).status).toBe(401);
    // The password never reaches the stored log.
    expect(lines.join("\n")).not.toContain(auth.password);
  });

  it("records every step of the run in order, each with its start and end from the clock", async () => {
    const { appServer } = await launch("");
    expect(appServer.status, appServer.failureSummary).toBe("running");
    const steps = await deps.db.appServerStep.findMany({ where: { appServerId: appServer.id }, orderBy: { position: "asc" } });
    expect(steps.map((s) => [s.position, s.name, s.outcome])).toEqual([
      [1, "prepare-data", "done"], [2, "create-vm", "done"], [3, "wait-vm", "done"], [4, "upload-vars", "done"], [5, "clone", "done"],
      [6, "start-playbook", "done"], [7, "tail", "done"], [8, "finish", "done"],
      [9, "wait-heartbeat", "done"],
    ]);
    for (const [i, s] of steps.entries()) {
      expect(s.endedAt!.getTime()).toBeGreaterThanOrEqual(s.startedAt.getTime());
      if (i > 0) expect(s.startedAt.getTime()).toBeGreaterThanOrEqual(steps[i - 1]!.endedAt!.getTime());
    }
    // The run's end is the succeeded transition's: the last step ends when the status changed.
    expect(steps.at(-1)!.endedAt!.getTime()).toBe(appServer.statusChangedAt.getTime());
    // /metrics counts each step with its recorded duration (this file's runs all count here).
    const metrics = await deps.metrics.registry.metrics();
    for (const s of steps) {
      expect(sample(metrics, "ocim_provisioning_step_duration_seconds_count", { step: s.name, recipe: "custom", outcome: "done" }), s.name).toBeGreaterThanOrEqual(1);
    }
    expect(sample(metrics, "ocim_log_lines_ingested_total")).toBe(await deps.db.logEntry.count());
  });

  it("fails with the failing task named and keeps the VM reachable over SSH", async () => {
    const { appServer, lines } = await launch("DEMO_FAIL: true\n");
    expect(appServer.status).toBe("failed");
    expect(appServer.failureSummary).toContain('Task "Fail on purpose (DEMO_FAIL)" failed: DEMO_FAIL is set');
    expect(lines.at(-1)).toContain("The VM is kept: SSH in to debug.");
    const vm = await vms.provider().getServer(appServer.providerServerId!);
    expect(vm?.status).toBe("ready");
    const session = await vms.connect(vm!);
    const res = await session.exec(`cat ${vm!.workDir}/playbook.exit`);
    expect(res).toMatchObject({ code: 0, stdout: "2\n" });
    const failedStep = await deps.db.appServerStep.findFirstOrThrow({ where: { appServerId: appServer.id, outcome: "failed" } });
    const metrics = await deps.metrics.registry.metrics();
    expect(sample(metrics, "ocim_provisioning_step_duration_seconds_count", { step: failedStep.name, recipe: "custom", outcome: "failed" })).toBe(1);
  });

  it("fails with a clear message when the configuration repository cannot be cloned, without retrying", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: `${repoUrl}-missing`, configurationBranch: DEMO_BRANCH, playbookPath: DEMO_PLAYBOOK });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    const done = await waitFor("the appserver to fail", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 120_000, 500);
    expect(done.status).toBe("failed");
    // The cause, not only the exit code: git's own words, which were only in the log.
    expect(done.failureSummary).toMatch(/^Cloning the configuration repository failed \(exit 128\): fatal: '[^']*-missing' does not appear to be a git repository$/);
    const clone = await deps.db.appServerStep.findUniqueOrThrow({ where: { appServerId_name: { appServerId: as.id, name: "clone" } } });
    expect(clone.outcome).toBe("failed");
    // The failing attempt writes the status before BullMQ records the attempt: wait for the job's end.
    const job = await jobEnded(deps.jobs.queue("provisioning"), `provision-${as.id}`);
    expect(job.attemptsMade).toBe(1);
    // Ended by the job's last failure (not by the step): counted then, as failed; the job as a final failure.
    const metrics = await deps.metrics.registry.metrics();
    const recipe = readSnapshot(done.configSnapshot).recipe;
    expect(sample(metrics, "ocim_provisioning_step_duration_seconds_count", { step: "clone", recipe, outcome: "failed" })).toBe(1);
    expect(sample(metrics, "ocim_job_failures_total", { queue: "provisioning", job: "provision-appserver", final: "true" })).toBe(1);
  });
});
