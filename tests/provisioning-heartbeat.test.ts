// The last provisioning step (issue 13, item 2): a playbook that exits 0 is not yet a running
// appserver; Ocim waits for its /heartbeat to answer 200 through the instance's basic auth, with the
// LMS domain as Host, until HEARTBEAT_TIMEOUT_MINUTES after the step started (by deps.now, which the
// test moves). Real local VMs (sshd on loopback), real git and ansible-playbook; the appserver is
// the heartbeat server of tests/helpers/git-repo.ts, which answers 503 while heartbeat/down exists.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText, type Agent } from "./helpers/browserless.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { cancelAppServer } from "../src/domain/appservers/cancel-appserver.js";
import { provisionAppServer } from "../src/domain/provisioning/provision-appserver.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

const actor = { id: null, login: "tester" };
const MINUTES = 10;

describe("waiting for /heartbeat before running", () => {
  let vms: LocalVms;
  let t: TestApp;
  let operator: Agent;
  let repo: ReturnType<typeof makeGitRepo>;
  let clock = Date.parse("2026-12-01T10:00:00Z");

  beforeAll(async () => {
    vms = await localVms();
    t = await startTestApp({ ...vms.env, HEARTBEAT_TIMEOUT_MINUTES: String(MINUTES) }, { now: () => new Date(clock) });
    operator = await t.loginAs("otis");
    repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
  }, 60_000);
  afterAll(async () => {
    await vms?.cleanup();
    await t?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  /** Launches an appserver whose /heartbeat answers 503 at first, and provisions it in the test. */
  async function provisionDown(signal?: AbortSignal) {
    const instance = await makeInstance(t.deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml", extraAnsibleVars: "HEARTBEAT_DOWN: true\n" });
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor });
    const run = provisionAppServer(t.deps, { appServerId: as.id }, createProvisioningPorts(t.deps), { pollMs: 50, signal });
    run.catch(() => {}); // awaited by each test; this keeps an early rejection from being unhandled
    const said503 = await waitFor("a 503 from /heartbeat in the log", async () => {
      const lines = await t.deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
      return lines.find((l) => l.text.includes("/heartbeat answered 503 Service Unavailable; trying again."))?.text;
    }, 50_000, 100);
    return { as, run, said503 };
  }

  const row = (id: number) => t.deps.db.appServer.findUniqueOrThrow({ where: { id } });
  const steps = async (id: number) =>
    (await t.deps.db.appServerStep.findMany({ where: { appServerId: id }, orderBy: { position: "asc" } })).map((s) => [s.name, s.outcome]).slice(-2);
  const logText = async (id: number) => (await t.deps.db.logEntry.findMany({ where: { appServerId: id }, orderBy: { seq: "asc" } })).map((l) => l.text).join("\n");

  it("keeps a succeeded playbook's appserver configuring at step 9 of 9, then fails it with what it last got once the clock passes the deadline", async () => {
    const { as, run, said503 } = await provisionDown();
    const ip = (await row(as.id)).publicIp!;
    expect(said503).toBe(`[ocim] GET http://${ip}:80/heartbeat answered 503 Service Unavailable; trying again.`);
    expect((await row(as.id)).status).toBe("configuring");
    const page = visibleText((await operator.get(`/appservers/${as.id}`)).text);
    expect(page).toContain("Step Step 9 of 9: Wait for /heartbeat to answer 200");
    expect(page).toContain("Read the playbook's exit code ·");

    clock += MINUTES * 60_000 - 1_000;
    await new Promise((r) => setTimeout(r, 300)); // a few more polls, still inside the deadline
    expect((await row(as.id)).status).toBe("configuring");
    clock += 2_000;
    expect(await run).toBe("failed");
    const done = await row(as.id);
    expect(done.status).toBe("failed");
    expect(done.failureSummary).toBe(`The playbook succeeded, but /heartbeat did not answer 200 within ${MINUTES} minutes: GET http://${ip}:80/heartbeat last answered 503 Service Unavailable.`);
    expect(await steps(as.id)).toEqual([["finish", "done"], ["wait-heartbeat", "failed"]]);
    const after = visibleText((await operator.get(`/appservers/${as.id}`)).text);
    expect(after).toContain("Provisioning failed (at step 9 of 9: Wait for /heartbeat to answer 200)");
  });

  it("ends running once /heartbeat answers 200 before the deadline", async () => {
    const { as, run } = await provisionDown();
    clock += (MINUTES - 1) * 60_000;
    const vm = await vms.provider().getServer((await row(as.id)).providerServerId!);
    const session = await vms.connect(vm!);
    expect(await session.exec("rm heartbeat/down")).toMatchObject({ code: 0 });
    expect(await run).toBe("running");
    expect((await row(as.id)).failureSummary).toBe("");
    expect(await steps(as.id)).toEqual([["finish", "done"], ["wait-heartbeat", "done"]]);
    expect(await logText(as.id)).toContain(`/heartbeat answered 200. The appserver is running.`);
  });

  it("stops waiting when the operator cancels: failed, the step cancelled", async () => {
    const { as, run } = await provisionDown();
    await cancelAppServer(t.deps, { appServerId: as.id, actor });
    expect(await run).toBe("failed");
    expect((await row(as.id)).failureSummary).toBe("Cancelled by tester.");
    expect(await steps(as.id)).toEqual([["finish", "done"], ["wait-heartbeat", "cancelled"]]);
    expect(await logText(as.id)).toContain("Provisioning was cancelled while waiting for /heartbeat. The VM is kept.");
  });

  it("keeps the deadline of the step's first start when a job resumes the wait", async () => {
    const die = new AbortController();
    const { as, run } = await provisionDown(die.signal);
    const started = (await t.deps.db.appServerStep.findUniqueOrThrow({ where: { appServerId_name: { appServerId: as.id, name: "wait-heartbeat" } } })).startedAt;
    die.abort(new Error("worker shut down"));
    await expect(run).rejects.toThrow("worker shut down");
    expect((await row(as.id)).status).toBe("configuring");

    clock += MINUTES * 60_000 + 1_000;
    expect(await provisionAppServer(t.deps, { appServerId: as.id }, createProvisioningPorts(t.deps), { pollMs: 50 })).toBe("failed");
    expect((await row(as.id)).failureSummary).toContain(`did not answer 200 within ${MINUTES} minutes`);
    const step = await t.deps.db.appServerStep.findUniqueOrThrow({ where: { appServerId_name: { appServerId: as.id, name: "wait-heartbeat" } } });
    expect(step.startedAt).toEqual(started);
  });
});
