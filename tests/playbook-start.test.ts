// How the playbook is started on the VM (remote.ts startCommand), run for real on a local VM (sshd
// on loopback, the VM's fixed PATH) with the commands provisioning sends: clone, then start, then
// the exit file. Programs that must not really run here (apt-get, pip, sudo, ansible-playbook of
// the native recipe) are recording stand-ins in a directory the test puts first on the session's
// PATH, as a VM image would have them in /usr/bin; the bootstrap itself is the recipe's, unchanged.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeGitRepo, HELLO_PLAYBOOK } from "./helpers/git-repo.js";
import { waitFor } from "./helpers/wait.js";
import { readSnapshot, type ConfigSnapshot } from "../src/domain/appservers/config-snapshot.js";
import { cloneCommand, remotePaths, startCommand, varsFile, type RemotePaths } from "../src/domain/provisioning/remote.js";
import { shellQuote } from "../src/adapters/ssh/quote.js";
import type { SshSession } from "../src/adapters/ssh/port.js";
import type { ServerInfo } from "../src/adapters/provider/port.js";
import { recipeLaunch } from "../src/domain/recipes/recipe.js";
import { parseExtraVariables } from "../src/domain/provisioning/variables.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";

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
  async function run(snap: ConfigSnapshot, pathPrefix = ""): Promise<{ paths: RemotePaths; exit: number; log: string; start: () => Promise<string> }> {
    const paths = remotePaths(`${vm.workDir}/run-${++n}`);
    const clone = await session.exec(cloneCommand(paths, snap), { timeoutMs: 60_000 });
    expect(clone.stderr).toBe("");
    await session.uploadFile(paths.vars, varsFile(snap), 0o600);
    const prefix = pathPrefix ? `PATH=${shellQuote(pathPrefix)}:"$PATH"; export PATH\n` : "";
    const start = async () => {
      const res = await session.exec(`${prefix}${startCommand(paths, snap)}`, { timeoutMs: 60_000 });
      expect(res.code).toBe(0);
      return `${res.stdout}${res.stderr}`;
    };
    expect(await start()).toBe("");
    const exit = await waitFor("the playbook's exit file", async () => {
      const res = await session.exec(`cat ${shellQuote(paths.exit)} 2>/dev/null`);
      return res.code === 0 && res.stdout.trim() !== "" ? Number(res.stdout.trim()) : undefined;
    }, 120_000);
    const log = (await session.exec(`cat ${shellQuote(paths.log)}`)).stdout;
    return { paths, exit, log, start };
  }

  it("runs the bootstrap in the shell of ansible-playbook: a PATH it extends reaches ansible-playbook", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": HELLO_PLAYBOOK });
    repos.push(repo.dir);
    // What a virtualenv's activate does: put its bin first on PATH. Its ansible-playbook says so.
    // It holds a token, as a bootstrap that fetches from a private repository would: nothing prints it.
    const bootstrap = [
      "GIT_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
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
    const repo = makeGitRepo({ "playbooks/quick.yml": HELLO_PLAYBOOK });
    repos.push(repo.dir);
    const { exit, log } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch, bootstrapCommand: "set -e\nfalse\necho not reached" }));
    expect(exit).toBe(1);
    expect(log).toBe("");
  });

  it("gives the playbook exactly the snapshot's values, the extra variables read as ansible reads YAML", async () => {
    // The playbook writes what ansible got for each variable, as JSON, next to the log.
    const names = ["QUOTED_NO", "COUNTRY", "CLOCK", "UNDERSCORE", "DAY", "ANSWER", "MODE", "ENABLED", "MERGED"];
    const seen = `{{ {${names.map((n) => `'${n}': ${n}`).join(", ")}} | to_json }}`;
    const repo = makeGitRepo({
      "playbooks/quick.yml": `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.copy:\n        dest: "{{ playbook_dir }}/../../seen.json"\n        content: "${seen}"\n`,
    });
    repos.push(repo.dir);
    const variables = parseExtraVariables([
      // Strings to YAML 1.2 and to the operator, which unquoted PyYAML would read as false, NO's false, 90, 1000, a date.
      'QUOTED_NO: "no"', 'COUNTRY: "NO"', 'CLOCK: "1:30"', 'UNDERSCORE: "1_000"', 'DAY: "2024-01-01"', "ANSWER: y",
      // What they mean to ansible as typed: octal, a boolean, a merge.
      "MODE: 0755", "ENABLED: yes", "base: &base { A: 1 }", "MERGED:", "  <<: *base", "  B: 2",
    ].join("\n"));
    expect(variables).toMatchObject({ MODE: 0o755, ENABLED: true, MERGED: { A: 1, B: 2 }, QUOTED_NO: "no", ANSWER: "y" });
    const { paths, exit } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch }, variables));
    expect(exit).toBe(0);
    const got = JSON.parse((await session.exec(`cat ${shellQuote(`${paths.dir}/seen.json`)}`)).stdout) as Record<string, unknown>;
    expect(got).toEqual(Object.fromEntries(names.map((n) => [n, variables[n]])));
  });

  it("gets the configuration at a commit id, not only at a branch's tip", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": HELLO_PLAYBOOK });
    repos.push(repo.dir);
    const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo.dir }).toString().trim();
    const pinned = git("rev-parse", "HEAD");
    writeFileSync(path.join(repo.dir, "playbooks/quick.yml"), HELLO_PLAYBOOK.replace('msg: "hello"', 'msg: "a later commit"'));
    git("commit", "--quiet", "--all", "-m", "later");
    const { exit, log } = await run(snapshot({ repoUrl: repo.url, branch: pinned }));
    expect(log).toContain('"msg": "hello"');
    expect(exit).toBe(0);
    // A ref the repository does not have fails the step, leaving no copy a retry would reuse.
    const paths = remotePaths(`${vm.workDir}/run-${++n}`);
    const missing = await session.exec(cloneCommand(paths, snapshot({ repoUrl: repo.url, branch: "no-such-branch" })), { timeoutMs: 60_000 });
    expect([missing.code, missing.stderr.trim()]).toEqual([128, "fatal: couldn't find remote ref no-such-branch"]);
    expect((await session.exec(`[ -e ${shellQuote(paths.repo)} ] && echo kept || echo none`)).stdout).toBe("none\n");
  });

  it("runs a custom playbook without a bootstrap with the VM's ansible-playbook, in the playbook's directory, not under sudo", async () => {
    const repo = makeGitRepo({ "playbooks/quick.yml": HELLO_PLAYBOOK });
    repos.push(repo.dir);
    const { exit, log } = await run(snapshot({ repoUrl: repo.url, branch: repo.branch }));
    expect(log).toContain('"msg": "hello"');
    expect(exit).toBe(0);
  });

  /**
   * Recording stand-ins for what the native bootstrap calls, in `dir` on the VM: each appends its
   * command line to calls.log. sudo drops its options and runs the rest with the environment it
   * got (as `sudo -E`, and as root's sudo on a VM image with NOPASSWD); virtualenv makes a venv
   * whose pip, on `install -r requirements.txt`, installs a recording ansible-playbook, which also
   * keeps the variables file it was given.
   */
  async function standIns(dir: string, ubuntu: string): Promise<{ calls: () => Promise<string[]>; seenVars: string }> {
    const calls = `${dir}/calls.log`;
    const seenVars = `${dir}/seen-vars.yml`;
    const record = (name: string) => `echo "${name} $*" >> ${shellQuote(calls)}`;
    const scripts: Record<string, string> = {
      lsb_release: `${record("lsb_release")}\ncase "$1" in -rs) echo ${ubuntu};; *) echo "Ubuntu ${ubuntu} LTS";; esac`,
      sudo: `${record("sudo")}\nwhile [ $# -gt 0 ]; do case "$1" in -*) shift;; *) break;; esac; done\nSUDO_USER=$(id -un) exec env "$@"`,
      "apt-get": record("apt-get"),
      pip3: record("pip3"),
      virtualenv: `${record("virtualenv")}\nfor target; do :; done\nmkdir -p "$target/bin" && cp ${shellQuote(`${dir}/venv-pip`)} "$target/bin/pip"`,
      "venv-pip": `${record("venv-pip")}\ncase "$*" in *"-r requirements.txt"*) cp ${shellQuote(`${dir}/venv-ansible-playbook`)} "$(dirname "$0")/ansible-playbook";; esac`,
      "venv-ansible-playbook": [
        `echo "ansible-playbook $0 $* (cwd $PWD, SUDO_USER=$SUDO_USER, ANSIBLE_FORCE_COLOR=$ANSIBLE_FORCE_COLOR)" >> ${shellQuote(calls)}`,
        `for a; do case "$a" in @*) cp "\${a#@}" ${shellQuote(seenVars)};; esac; done`,
      ].join("\n"),
    };
    await session.exec(`mkdir -p ${shellQuote(dir)}`);
    for (const [name, body] of Object.entries(scripts)) await session.uploadFile(`${dir}/${name}`, `#!/bin/sh\n${body}\n`, 0o755);
    return { calls: async () => (await session.exec(`cat ${shellQuote(calls)}`)).stdout.split("\n").filter(Boolean), seenVars };
  }

  /** A native launch of quince from a configuration clone of `repoUrl` (the recipe's own bootstrap). */
  function nativeSnapshot(repoUrl: string): ConfigSnapshot {
    const instance = {
      name: "Native U", internalLmsDomain: "courses.example.org", ...derivePrefixedDomains("courses.example.org"),
      edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git", edxPlatformBranch: "master",
      configurationRepoUrl: repoUrl, configurationBranch: "master", playbookPath: "", bootstrapCommand: "", extraAnsibleVars: "",
      recipe: "native" as const, openedxRelease: "quince", tutorPlugins: [],
    };
    const plan = recipeLaunch({ instance, auth: { user: "u", password: "p4ss-secret" }, sshUsers: [], parts: {} });
    return readSnapshot({ version: 2, recipe: plan.recipe, instance: { slug: "native-u" }, playbook: plan.playbook, variables: plan.variables, providerKind: "local", launchedAt: "2026-12-01T00:00:00.000Z" });
  }

  /** The files of openedx/configuration that the native bootstrap and start read, at the release's branch. */
  function configurationRepo() {
    const repo = makeGitRepo({
      "requirements.txt": "ansible==2.10.7\n",
      "requirements/pip.txt": "pip==23.1.2\n",
      "playbooks/openedx_native.yml": "- hosts: all\n  roles: []\n",
    }, "open-release/quince.master");
    repos.push(repo.dir);
    return repo;
  }

  it("runs the native installer's bootstrap, then the virtualenv's ansible-playbook under sudo -E with the pinned variables", async () => {
    const repo = configurationRepo();
    const snap = nativeSnapshot(repo.url);
    expect(snap.playbook.branch).toBe("open-release/quince.master");
    const { calls, seenVars } = await standIns(`${vm.workDir}/standins-native`, "20.04");
    const { paths, exit, log, start } = await run(snap, `${vm.workDir}/standins-native`);
    const venv = `${paths.dir}/ansible-venv`;
    const playbookArgs = `-c local -i localhost, ./openedx_native.yml -e @${paths.vars}`;
    const packages = "build-essential software-properties-common curl git-core libxml2-dev libxslt1-dev python3-pip libmysqlclient-dev python3-apt python3-dev libxmlsec1-dev libfreetype6-dev swig gcc g++";
    expect(await calls()).toEqual([
      "lsb_release -rs",
      "sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -y", "apt-get -o DPkg::Lock::Timeout=600 update -y",
      `sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y ${packages}`, `apt-get -o DPkg::Lock::Timeout=600 install -y ${packages}`,
      "sudo -H pip3 install --upgrade pip==21.2.1", "pip3 install --upgrade pip==21.2.1",
      "sudo -H pip3 install --upgrade setuptools==44.1.0", "pip3 install --upgrade setuptools==44.1.0",
      "sudo -H pip3 install --upgrade virtualenv==20.2.0", "pip3 install --upgrade virtualenv==20.2.0",
      `virtualenv --python=python3 ${venv}`,
      "venv-pip install -r requirements/pip.txt --exists-action w",
      "venv-pip install -r requirements.txt --exists-action w",
      `sudo -E ${venv}/bin/ansible-playbook ${playbookArgs}`,
      `ansible-playbook ${venv}/bin/ansible-playbook ${playbookArgs} (cwd ${paths.repo}/playbooks, SUDO_USER=${(await session.exec("id -un")).stdout.trim()}, ANSIBLE_FORCE_COLOR=0)`,
    ]);
    expect(exit).toBe(0);
    expect(log).toBe("");
    const vars = parseYaml((await session.exec(`cat ${shellQuote(seenVars)}`)).stdout) as Record<string, unknown>;
    for (const name of ["EDX_PLATFORM_VERSION", "FORUM_VERSION", "XQUEUE_VERSION", "CONFIGURATION_VERSION", "DEMO_VERSION", "MFE_DEPLOY_VERSION", "DISCOVERY_VERSION", "THEMES_VERSION"]) {
      expect([name, vars[name]]).toEqual([name, "open-release/quince.master"]);
    }
    // A resumed job starts it again: the marker makes that a no-op, nothing is installed twice.
    const before = await calls();
    await start();
    expect(await calls()).toEqual(before);
    expect(vars).toMatchObject({ EDXAPP_CMS_NGINX_PORT: 80, CMS_HOSTNAME: "studio.courses.example.org", NGINX_SET_X_FORWARDED_HEADERS: false, SANDBOX_ENABLE_ECOMMERCE: false });
  });

  it("stops before anything is installed on an Ubuntu other than 20.04, saying why", async () => {
    const repo = configurationRepo();
    const { calls } = await standIns(`${vm.workDir}/standins-jammy`, "22.04");
    const { exit, log } = await run(nativeSnapshot(repo.url), `${vm.workDir}/standins-jammy`);
    expect(exit).toBe(1);
    expect(log).toBe("The native recipe installs quince on Ubuntu 20.04 only (openedx/configuration's native installer checks for it); this VM runs Ubuntu 22.04 LTS. Use an Ubuntu 20.04 image, or the tutor recipe.\n");
    expect(await calls()).toEqual(["lsb_release -rs", "lsb_release -ds"]);
  });
});
