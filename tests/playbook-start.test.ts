// How the playbook is started on the VM (remote.ts startCommand), run for real on a local VM (sshd
// on loopback, the VM's fixed PATH) with the commands provisioning sends: clone, then start, then
// the exit file. Programs that must not really run here (apt-get, pip, sudo, ansible-playbook of
// the native recipe) are recording stand-ins in a directory the test puts first on the session's
// PATH, as a VM image would have them in /usr/bin; the bootstrap itself is the recipe's, unchanged.
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { readSnapshot, type ConfigSnapshot } from "../src/domain/appservers/config-snapshot.js";
import { cloneCommand, remotePaths, startCommand, varsFile, type RemotePaths } from "../src/domain/provisioning/remote.js";
import { shellQuote } from "../src/adapters/ssh/quote.js";
import type { SshSession } from "../src/adapters/ssh/port.js";
import type { ServerInfo } from "../src/adapters/provider/port.js";

describe("starting the playbook on the VM", () => {
  let vms: LocalVms;
  let vm: ServerInfo;
  let session: SshSession;
  let n = 0;
  const repos: string[] = [];

  beforeAll(async () => {
    vms = await localVms();
    vm = await vms.provider().createServer({ name: "start-1" });
    session = await vms.connect(vm);
  });
  afterAll(async () => {
    await vms?.cleanup();
    for (const dir of repos) rmSync(dir, { recursive: true, force: true });
  });

  function snapshot(playbook: Partial<ConfigSnapshot["playbook"]> & { repoUrl: string; branch: string }, variables: Record<string, unknown> = {}): ConfigSnapshot {
    return readSnapshot({
      version: 2, recipe: "custom", instance: { slug: "start" }, variables, providerKind: "local", launchedAt: "2026-12-01T00:00:00.000Z",
      playbook: { path: "playbooks/quick.yml", bootstrapCommand: "", sudo: false, ...playbook },
    });
  }

  /** Clones, writes vars.yml and starts the playbook as provisioning does; waits for its exit file. */
  async function run(snap: ConfigSnapshot, pathPrefix = ""): Promise<{ paths: RemotePaths; exit: number; log: string }> {
    const paths = remotePaths(`${vm.workDir}/run-${++n}`);
    const clone = await session.exec(cloneCommand(paths, snap), { timeoutMs: 60_000 });
    expect(clone.stderr).toBe("");
    await session.uploadFile(paths.vars, varsFile(snap), 0o600);
    const prefix = pathPrefix ? `PATH=${shellQuote(pathPrefix)}:"$PATH"; export PATH\n` : "";
    const start = await session.exec(`${prefix}${startCommand(paths, snap)}`, { timeoutMs: 60_000 });
    expect(start.code).toBe(0);
    const exit = await waitFor("the playbook's exit file", async () => {
      const res = await session.exec(`cat ${shellQuote(paths.exit)} 2>/dev/null`);
      return res.code === 0 && res.stdout.trim() !== "" ? Number(res.stdout.trim()) : undefined;
    }, 120_000);
    const log = (await session.exec(`cat ${shellQuote(paths.log)}`)).stdout;
    return { paths, exit, log };
  }

  it("runs the bootstrap in the shell of ansible-playbook: a PATH it extends reaches ansible-playbook", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
    repos.push(repo.dir);
    // What a virtualenv's activate does: put its bin first on PATH. Its ansible-playbook says so.
    const bootstrap = [
      "mkdir -p venv/bin",
      `printf '#!/bin/sh\\necho "venv ansible-playbook in $PWD: $*"\\n' > venv/bin/ansible-playbook`,
      "chmod +x venv/bin/ansible-playbook",
      'PATH="$PWD/venv/bin:$PATH"; export PATH',
    ].join(" && ");
    const { paths, exit, log } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch, bootstrapCommand: bootstrap }));
    expect(log).toBe(`venv ansible-playbook in ${paths.repo}/playbooks: -c local -i localhost, ./quick.yml -e @${paths.vars}\n`);
    expect(exit).toBe(0);
  });

  it("records the exit code of a bootstrap that exits the shell, and does not start ansible-playbook", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
    repos.push(repo.dir);
    const { exit, log } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch, bootstrapCommand: "set -e\nfalse\necho not reached" }));
    expect(exit).toBe(1);
    expect(log).toBe("");
  });

  it("runs a custom playbook without a bootstrap with the VM's ansible-playbook, in the playbook's directory, not under sudo", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
    repos.push(repo.dir);
    const { exit, log } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch }));
    expect(log).toContain('"msg": "hello"');
    expect(exit).toBe(0);
  });
});
