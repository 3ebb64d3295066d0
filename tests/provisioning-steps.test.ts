// Provisioning as named, recorded steps: a job that dies inside a step is resumed by the next one
// at that step, and only that step runs again. Real local VM (sshd on loopback), real git clone,
// real ansible-playbook; the clock is the test's and moves between the two runs.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "./helpers/git-repo.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { provisionAppServer } from "../src/domain/provisioning/provision-appserver.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import type { ProvisioningPorts } from "../src/domain/provisioning/ports.js";

describe("provisioning steps", () => {
  let vms: LocalVms;
  let deps: TestDeps;
  let repo: ReturnType<typeof makeGitRepo>;
  let clock = Date.parse("2026-12-01T10:00:00Z");

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env, { now: () => new Date(clock) });
    repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
  });
  afterAll(async () => {
    await vms?.cleanup();
    await deps?.close();
    rmSync(repo.dir, { recursive: true, force: true });
  });

  /** The real ports, counting what the provider is asked, and dying (as a killed worker would)
   *  the first time a step uploads a file over SSH: inside the upload-vars step (wait-vm already
   *  opened the session, to wait for cloud-init). */
  function ports(counts: { created: number; found: number }, die: AbortController | null): ProvisioningPorts {
    const real = createProvisioningPorts(deps);
    return {
      provider(kind) {
        const p = real.provider(kind);
        return Object.assign(Object.create(p), {
          createServer: (...args: Parameters<typeof p.createServer>) => (counts.created++, p.createServer(...args)),
          findServerByName: (name: string) => (counts.found++, p.findServerByName(name)),
        });
      },
      async connect(provider, vm, deadlineMs, hostKey) {
        const session = await real.connect(provider, vm, deadlineMs, hostKey);
        return Object.assign(Object.create(session), {
          uploadFile(...args: Parameters<typeof session.uploadFile>) {
            if (die && !die.signal.aborted) {
              die.abort(new Error("worker killed"));
              throw die.signal.reason;
            }
            return session.uploadFile(...args);
          },
        });
      },
    };
  }

  it("re-runs only the step the dead job was in: the VM is created once, earlier steps keep their times", async () => {
    const instance = await makeInstance(deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    const counts = { created: 0, found: 0 };
    const die = new AbortController();
    const t0 = clock;
    await expect(provisionAppServer(deps, { appServerId: as.id }, ports(counts, die), { signal: die.signal, pollMs: 50 })).rejects.toThrow("worker killed");
    const steps = () => deps.db.appServerStep.findMany({ where: { appServerId: as.id }, orderBy: { position: "asc" } });
    const at = (ms: number) => new Date(ms);
    expect((await steps()).map((s) => [s.name, s.startedAt, s.endedAt, s.outcome])).toEqual([
      ["prepare-data", at(t0), at(t0), "done"],
      ["create-vm", at(t0), at(t0), "done"],
      ["wait-vm", at(t0), at(t0), "done"],
      ["upload-vars", at(t0), null, null],
    ]);
    expect(counts).toEqual({ created: 1, found: 1 });

    clock += 90_000;
    const t1 = clock;
    expect(await provisionAppServer(deps, { appServerId: as.id }, ports(counts, null), { pollMs: 50 })).toBe("running");
    // No step before upload-vars ran again: no second VM, not even a look-up by name.
    expect(counts).toEqual({ created: 1, found: 1 });
    expect((await steps()).map((s) => [s.name, s.startedAt, s.endedAt, s.outcome])).toEqual([
      ["prepare-data", at(t0), at(t0), "done"],
      ["create-vm", at(t0), at(t0), "done"],
      ["wait-vm", at(t0), at(t0), "done"],
      ["upload-vars", at(t0), at(t1), "done"],
      ["clone", at(t1), at(t1), "done"],
      ["start-playbook", at(t1), at(t1), "done"],
      ["tail", at(t1), at(t1), "done"],
      ["finish", at(t1), at(t1), "done"],
      ["wait-heartbeat", at(t1), at(t1), "done"],
    ]);
    const lines = (await deps.db.logEntry.findMany({ where: { appServerId: as.id }, orderBy: { seq: "asc" } })).map((l) => l.text);
    expect(lines.filter((l) => l.startsWith("[ocim] Created VM"))).toHaveLength(1);
    // Once in the run that died inside upload-vars, once in the resume that re-ran it from its start.
    expect(lines.filter((l) => l.startsWith("[ocim] Uploading the playbook variables."))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith("[ocim] Waiting for cloud-init"))).toHaveLength(1);
    expect(lines.some((l) => l.includes('"msg": "hello"'))).toBe(true);
  });
});
