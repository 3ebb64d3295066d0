// A worker killed (SIGKILL) in the middle of the playbook: another worker process resumes from the
// stored byte offset, and every line of the VM's log file is stored exactly once, in order.
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, SERVE_HEARTBEAT_PLAY } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";

// Prints one line block per item, a few per second, for long enough to kill a worker mid-run.
const SLOW_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Count slowly
      ansible.builtin.debug:
        msg: "line {{ item }}"
      loop: "{{ range(0, 120) | list }}"
      loop_control:
        pause: 0.05
${SERVE_HEARTBEAT_PLAY}`;

describe("a provisioning worker that dies mid-playbook", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let repo: ReturnType<typeof makeGitRepo>;
  const workers: ChildProcess[] = [];

  function startWorkerProcess(): ChildProcess {
    const child = spawn(process.execPath, ["--import", "tsx", "src/bin/worker.ts"], {
      env: {
        ...process.env, ...vms.env, NODE_ENV: "test", LOG_LEVEL: "warn",
        DATABASE_URL: deps.databaseUrl, REDIS_URL: deps.redisUrl, SECRET_KEY: TEST_SECRET_KEY,
        QUEUE_PREFIX: deps.config.QUEUE_PREFIX, JOB_LOCK_SECONDS: "5",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    workers.push(child);
    return child;
  }

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env);
    repo = makeGitRepo({ "playbooks/slow.yml": SLOW_PLAYBOOK });
  });
  afterAll(async () => {
    for (const w of workers) w.kill("SIGKILL");
    await vms?.cleanup();
    await deps?.close();
    rmSync(repo.dir, { recursive: true, force: true });
  });

  it("resumes in another worker with every line of the VM's log exactly once, in order", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/slow.yml" });
    const first = startWorkerProcess();
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const playbookLines = () => deps.db.logEntry.count({ where: { appServerId: as.id, NOT: { text: { startsWith: "[ocim]" } } } });
    await waitFor("some playbook lines", async () => (await playbookLines()) >= 40, 120_000);
    first.kill("SIGKILL");
    const atKill = await playbookLines();
    startWorkerProcess();
    const done = await waitFor("the appserver to finish", async () => {
      const row = await deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } });
      return ["running", "failed", "error"].includes(row.status) ? row : undefined;
    }, 180_000, 500);
    expect(done.status, done.failureSummary).toBe("running");

    const stored = await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } });
    expect(stored.map((l) => l.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.some((l) => l.text.startsWith("[ocim] Re-attaching to the playbook log at byte"))).toBe(true);
    const fromPlaybook = stored.filter((l) => !l.text.startsWith("[ocim]")).map((l) => l.text);
    expect(fromPlaybook.length).toBeGreaterThan(atKill);

    const vm = await vms.provider().getServer(done.providerServerId!);
    const session = await vms.connect(vm!);
    const file = await session.exec(`cat ${vm!.workDir}/playbook.log`);
    const fileLines = file.stdout.replace(/\n$/, "").split("\n");
    expect(fileLines.filter((l) => /"msg": "line \d+"/.test(l))).toHaveLength(120);
    expect(fromPlaybook).toEqual(fileLines);
  });
});
