// Defect 2 of issue 11: PostgreSQL stopped while a provisioning runs, for longer than the job's
// whole retry budget. The job uses all its attempts, its failure handler cannot write either, and
// the playbook finishes on the VM meanwhile. Without a reconciler the appserver stays
// `configuring` with no job, forever. With it: once PostgreSQL is back, the reconciler re-enqueues
// the provisioning, which re-attaches to the finished playbook, and the appserver ends `running`
// with every line of the VM's log stored exactly once.
// This file has a PostgreSQL of its own (the shared one must stay up for the other files).
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDeps, closeDeps, type Deps } from "../src/deps.js";
import { startPostgres, type EmbeddedPostgres } from "../src/embedded/postgres.js";
import { migrate } from "../src/bin/boot.js";
import { startWorkers, type RunningWorkers } from "../src/jobs/registry.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { reconcileAppServers } from "../src/jobs/reconcile-appservers.js";
import { QUEUE } from "../src/jobs/names.js";
import { TEST_SECRET_KEY, testConfig } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, SERVE_HEARTBEAT_PLAY } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Count slowly
      ansible.builtin.debug:
        msg: "line {{ item }}"
      loop: "{{ range(0, 80) | list }}"
      loop_control:
        pause: 0.05
${SERVE_HEARTBEAT_PLAY}`;

describe("a provisioning that outlives a PostgreSQL outage", () => {
  let dir: string;
  let pg: EmbeddedPostgres;
  let port: number;
  let vms: LocalVms;
  let deps: Deps;
  let workers: RunningWorkers;
  let repo: ReturnType<typeof makeGitRepo>;
  let skewMs = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-outage-"));
    chmodSync(dir, 0o755); // the postgres user must reach its data directory below it
    pg = await startPostgres(dir, () => {});
    port = Number(new URL(pg.url).port);
    await migrate(pg.url);
    vms = await localVms();
    repo = makeGitRepo({ "playbooks/slow.yml": PLAYBOOK });
    const redisUrl = inject("redisUrl");
    const config = testConfig({
      ...vms.env, DATABASE_URL: pg.url, REDIS_URL: redisUrl, QUEUE_PREFIX: `ocimtest-outage-${process.pid}-${Date.now()}`,
      // The whole retry budget is spent within the outage: two attempts, no wait between them.
      PROVISIONING_ATTEMPTS: "2", JOB_RETRY_DELAY_SECONDS: "0", OUTBOX_SWEEP_SECONDS: "1",
    });
    deps = createDeps(config, { databaseUrl: pg.url, redisUrl, secretKey: TEST_SECRET_KEY }, { now: () => new Date(Date.now() + skewMs) });
    workers = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  });
  afterAll(async () => {
    // CI once saw this hook time out, and a hook's timeout names no step: each step says when it is slow.
    const step = async (name: string, work: () => Promise<unknown>) => {
      const slow = setTimeout(() => void reportSlow(name), 30_000);
      try {
        await work();
      } finally {
        clearTimeout(slow);
      }
    };
    const reportSlow = async (name: string) => {
      const active = await Promise.all(Object.values(QUEUE).map(async (q) => (await deps.jobs.queue(q).getActive()).map((j) => `${q}/${j.name}/${j.id}`)))
        .then((lists) => lists.flat().join(", ") || "none", (err) => `unknown (${String(err)})`);
      console.error(`afterAll: ${name} still running after 30 s; active jobs: ${active}`);
    };
    await step("workers.close", async () => workers?.close());
    await step("vms.cleanup", async () => vms?.cleanup());
    await step("closeDeps", async () => deps && closeDeps(deps));
    await step("PostgreSQL stop", async () => pg?.child.stop());
    rmSync(dir, { recursive: true, force: true });
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  it("ends running with every line once after the reconciler resumes it", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/slow.yml" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const playbookLines = () => deps.db.logEntry.count({ where: { appServerId: as.id, NOT: { text: { startsWith: "[ocim]" } } } });
    await waitFor("some playbook lines", async () => (await playbookLines()) >= 10, 120_000);

    await pg.child.stop();
    const job = () => deps.jobs.queue(QUEUE.provisioning).getJob(`provision-${as.id}`);
    await waitFor("the job to use all its attempts", async () => (await (await job())?.getState()) === "failed", 60_000);
    const vm = (await vms.provider().findServerByName(`${instance.slug}-as${as.number}`))!;
    const session = await vms.connect(vm);
    await waitFor("the playbook to finish on the VM", async () => (await session.exec(`cat ${vm.workDir}/playbook.exit`)).stdout.trim() === "0", 120_000);

    pg = await startPostgres(dir, () => {}, { port });
    const stuck = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
    expect(stuck.status).toBe("configuring");

    // The reconciler leaves a job's own failure handler a grace period: move the clock past it.
    skewMs += (deps.config.RECONCILE_AFTER_SECONDS + 1) * 1000;
    const outcome = await reconcileAppServers(deps);
    expect(outcome.resumed).toEqual([as.id]);
    const done = await waitFor("the appserver to finish", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 120_000, 300);
    expect(done.status, done.failureSummary).toBe("running");

    const stored = await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
    expect(stored.map((l) => l.seq)).toEqual(stored.map((_, i) => i + 1));
    const fromPlaybook = stored.filter((l) => !l.text.startsWith("[ocim]")).map((l) => l.text);
    const file = await session.exec(`cat ${vm.workDir}/playbook.log`);
    const fileLines = file.stdout.replace(/\n$/, "").split("\n");
    expect(fileLines.filter((l) => /"msg": "line \d+"/.test(l))).toHaveLength(80);
    expect(fromPlaybook).toEqual(fileLines);
  }, 300_000); // a whole provisioning, an outage and a resume: its own waits allow up to 7 minutes
});
