// The tutor recipe's playbook (playbooks/tutor/) for real on local VMs: uploaded with the clone
// step's own reader, started with the start step's own command, run by the real ansible-playbook.
// Docker, pipx, Tutor, apt-get, hostnamectl and sudo are recording stand-ins first on the VM's
// PATH (Docker cannot run here and Open edX cannot be downloaded): the test checks the exact
// commands the playbook runs, the config.yml Tutor would read and the plugin it would load.
// The VM is this Debian machine: the facts that make it an Ubuntu LTS are given as extra
// variables (they outrank gathered facts), as nothing may be installed for real.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ServerInfo } from "../src/adapters/provider/port.js";
import type { SshSession } from "../src/adapters/ssh/port.js";
import { shellQuote } from "../src/adapters/ssh/quote.js";
import { newJwtKey } from "../src/domain/data/instance-secrets.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { writeSnapshot } from "../src/domain/appservers/config-snapshot.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { remotePaths, startCommand, varsFile } from "../src/domain/provisioning/remote.js";
import { readShippedPlaybook } from "../src/domain/provisioning/shipped-playbook.js";
import { planLaunch, type LaunchPlan } from "../src/domain/recipes/plan-launch.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { waitFor } from "./helpers/wait.js";

const UBUNTU = { ansible_distribution: "Ubuntu", ansible_distribution_version: "24.04" };

/** One script for every stand-in: it notes its name and arguments, then acts out the little the playbook needs. */
const STANDIN = String.raw`#!/bin/sh
name=$(basename "$0")
state="$HOME/standin-state"
mkdir -p "$state"
printf '%s\n' "$name $*" >> "$HOME/standin-calls.log"
case "$name" in
  sudo)
    while [ "$#" -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
    exec "$@" ;;
  apt-get)
    case " $* " in *" docker.io "*) touch "$state/docker" ;; esac
    case " $* " in *" pipx "*) touch "$state/pipx" ;; esac ;;
  docker)
    [ -e "$state/docker" ] || { echo "docker: command not found" >&2; exit 127; }
    echo "Docker (stand-in)" ;;
  pipx)
    [ -e "$state/pipx" ] || { echo "pipx: command not found" >&2; exit 127; }
    case "$1" in
      --version) echo "1.4.3" ;;
      install) printf '%s' "$*" | sed -n 's/.*>=\([0-9]*\)\..*/\1.0.9/p' > "$state/tutor" ;;
    esac ;;
  tutor)
    [ -s "$state/tutor" ] || { echo "tutor: command not found" >&2; exit 127; }
    root="$HOME/.local/share/tutor"
    case "$*" in
      --version) echo "tutor, version $(cat "$state/tutor")" ;;
      "config printroot") echo "$root" ;;
      "plugins printroot") echo "$HOME/.local/share/tutor-plugins" ;;
      "config save") grep -q '^MEILISEARCH_API_KEY:' "$root/config.yml" || echo "MEILISEARCH_API_KEY: generated-by-tutor" >> "$root/config.yml" ;;
      "local launch --non-interactive")
        # Tutor prints the init scripts it runs, passwords included.
        grep '^OPENEDX_MYSQL_PASSWORD:' "$root/config.yml"
        if [ -e "$state/fail-launch" ]; then echo "Error: the lms container exited (stand-in)" >&2; exit 3; fi ;;
    esac ;;
esac
exit 0
`;
const STANDINS = ["sudo", "apt-get", "docker", "pipx", "tutor", "hostnamectl"];

describe("tutor playbook on local VMs", { timeout: 300_000 }, () => {
  let vms: LocalVms;
  let deps: TestDeps;
  const sessions = new Map<string, { vm: ServerInfo; shell: SshSession }>();

  beforeAll(async () => {
    vms = await localVms();
    deps = await createTestDeps(vms.env);
  });
  afterAll(async () => {
    await vms?.cleanup();
    await deps?.close();
  });

  const home = (vm: string) => path.join(vms.dataDir, "vms", vm, "home");
  const callsFile = (vm: string) => path.join(home(vm), "standin-calls.log");
  const calls = (vm: string) => (existsSync(callsFile(vm)) ? readFileSync(callsFile(vm), "utf8").trim().split("\n") : []);
  const tutorFile = (vm: string, file: string) => readFileSync(path.join(home(vm), ".local/share", file), "utf8");

  /** A VM with the shipped playbook uploaded where the clone step puts it, and the stand-ins in ~/standins. */
  async function vmFor(name: string) {
    const known = sessions.get(name);
    if (known) return known;
    const vm = await vms.provider().createServer({ name });
    const shell = await vms.connect(vm);
    const paths = remotePaths(vm.workDir!);
    const files = readShippedPlaybook("tutor");
    expect(files.map((f) => f.relative)).toEqual(["README.md", "site.yml", "templates/ocim.py.j2"]);
    expect((await shell.exec(`mkdir -p ${shellQuote(`${paths.repo}/templates`)} "$HOME/standins"`)).code).toBe(0);
    for (const f of files) await shell.uploadFile(`${paths.repo}/${f.relative}`, f.content);
    for (const s of STANDINS) await shell.uploadFile(`${home(name)}/standins/${s}`, STANDIN, 0o755);
    sessions.set(name, { vm, shell });
    return { vm, shell };
  }

  /** Runs the playbook as the start step starts it (detached, then its exit file), with the stand-ins first on PATH. */
  async function run(vmName: string, plan: LaunchPlan, extra: Record<string, unknown> = UBUNTU) {
    const { vm, shell } = await vmFor(vmName);
    const paths = remotePaths(vm.workDir!);
    const snapshot = writeSnapshot({ recipe: plan.recipe, instance: { slug: vmName }, playbook: plan.playbook, variables: { ...plan.variables, ...extra }, providerKind: "local", launchedAt: new Date().toISOString() });
    await shell.uploadFile(paths.vars, varsFile(snapshot), 0o600);
    await shell.exec(`rm -f ${shellQuote(paths.started)} ${shellQuote(paths.exit)} "$HOME/standin-calls.log"`);
    const start = await shell.exec(`export PATH="$HOME/standins:$PATH"; ${startCommand(paths, snapshot)}`, { timeoutMs: 30_000 });
    expect(start.code, start.stderr).toBe(0);
    const exit = await waitFor("the playbook to end", async () => {
      const r = await shell.exec(`cat ${shellQuote(paths.exit)} 2>/dev/null`);
      return r.code === 0 && r.stdout.trim() ? Number(r.stdout.trim()) : undefined;
    }, 240_000, 500);
    const log = (await shell.exec(`cat ${shellQuote(paths.log)}`)).stdout;
    // The start command's sudo is not the playbook's own: kept apart.
    const all = calls(vmName);
    return { exit, log, sudo: all.filter((c) => c.startsWith("sudo ")), calls: all.filter((c) => !c.startsWith("sudo ")) };
  }

  let instance: Awaited<ReturnType<typeof makeInstance>>;
  let plans: LaunchPlan[];

  it("passes ansible-playbook --syntax-check", () => {
    const out = execFileSync("ansible-playbook", ["--syntax-check", "-i", "localhost,", "playbooks/tutor/site.yml"], { encoding: "utf8" });
    expect(out).toContain("playbook: playbooks/tutor/site.yml");
  });

  it("installs Docker, pipx and the release's Tutor, writes config.yml and the Ocim plugin, then launches; secrets stay out of the log", async () => {
    const mysql = await deps.db.dataService.create({ data: { name: "MySQL", kind: "mysql", settings: { host: "mysql.campus.test", port: 3307 } } });
    const mongodb = await deps.db.dataService.create({ data: { name: "MongoDB", kind: "mongodb", settings: { host: "mongo.campus.test", port: 27017, tls: true } } });
    // Behind a balancer that serves it HTTPS: the config says so (ENABLE_HTTPS, below).
    const lb = await deps.db.loadBalancer.create({ data: { name: "lb", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: "lb" } });
    instance = await makeInstance(deps, {
      slug: "campus", name: "Campus Online", internalLmsDomain: "lms.campus.test", recipe: "tutor", openedxRelease: "ulmo",
      edxPlatformBranch: "release/ulmo", tutorPlugins: ["forum"], mysqlServiceId: mysql.id, mongodbServiceId: mongodb.id, jwtKeyEncrypted: await newJwtKey(deps.secrets),
      loadBalancerId: lb.id,
    });
    await deps.db.instanceCertificate.create({ data: { instanceId: instance.id, certificatePem: "-----BEGIN CERTIFICATE-----" } });
    await deps.db.githubKey.createMany({ data: [
      { githubLogin: "alice", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@laptop", fingerprint: "SHA256:alice" },
      { githubLogin: "bob", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBob", fingerprint: "SHA256:bob" },
    ] });
    plans = [await deps.db.$transaction((tx) => planLaunch(tx, deps, instance, 1)), await deps.db.$transaction((tx) => planLaunch(tx, deps, instance, 2))];

    const { exit, log, calls, sudo } = await run("campus-as1", plans[0]!);
    expect(exit, log).toBe(0);
    // Under sudo -E, as the recipe asks (the start step's command), with the uploaded variables.
    expect(sudo).toEqual([expect.stringMatching(/^sudo -E \S*ansible-playbook -c local -i localhost, \.\/site\.yml -e @\S+\/vars\.yml$/)]);
    expect(log).toMatch(/localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    expect(calls).toEqual([
      "hostnamectl set-hostname campus-as1",
      "docker --version",
      "apt-get update -q",
      "apt-get install -y -q docker.io docker-compose-v2",
      "pipx --version",
      "apt-get update -q",
      "apt-get install -y -q pipx",
      "tutor --version",
      "pipx install --force tutor[full]>=21.0.0,<22.0.0",
      "tutor config printroot",
      "tutor plugins printroot",
      "tutor plugins enable mfe forum ocim",
      "tutor config save",
      "tutor local launch --non-interactive",
    ]);
    const auth = basicAuthFor(deps.secrets, instance);
    const edxapp = instanceDataPlan(deps.secrets, instance, []).mysql.users.find((u) => u.role === "edxapp")!;
    for (const secret of [auth.password, edxapp.password, (plans[0]!.variables.TUTOR_CONFIG as Record<string, string>).OPENEDX_SECRET_KEY!]) expect(log).not.toContain(secret);
    // Tutor's own output (it prints passwords) went to a file on the VM instead.
    expect(readFileSync(path.join(home("campus-as1"), "ocim-tutor-launch.log"), "utf8")).toContain("OPENEDX_MYSQL_PASSWORD:");
  });

  it("gives Tutor a config.yml with the instance's hosts, HTTPS behind the balancer and its external databases", () => {
    const config = parseYaml(tutorFile("campus-as1", "tutor/config.yml")) as Record<string, unknown>;
    const plan = instanceDataPlan(deps.secrets, instance, []);
    const edxapp = plan.mysql.users.find((u) => u.role === "edxapp")!;
    const mongo = plan.mongodb.users.find((u) => u.role === "edxapp")!;
    expect(config).toMatchObject({
      LMS_HOST: "lms.campus.test", CMS_HOST: "studio.lms.campus.test", MFE_HOST: "apps.lms.campus.test", PLATFORM_NAME: "Campus Online",
      CONTACT_EMAIL: "contact@lms.campus.test", ENABLE_HTTPS: true, ENABLE_WEB_PROXY: false, CADDY_HTTP_PORT: 80,
      RUN_MYSQL: false, MYSQL_HOST: "mysql.campus.test", MYSQL_PORT: 3307, MYSQL_ROOT_USERNAME: edxapp.name, MYSQL_ROOT_PASSWORD: edxapp.password,
      OPENEDX_MYSQL_DATABASE: "campus_edxapp", OPENEDX_MYSQL_USERNAME: edxapp.name, OPENEDX_MYSQL_PASSWORD: edxapp.password,
      RUN_MONGODB: false, MONGODB_HOST: "mongo.campus.test", MONGODB_PORT: 27017, MONGODB_DATABASE: "campus_edxapp", MONGODB_USERNAME: mongo.name,
      MONGODB_PASSWORD: mongo.password, MONGODB_AUTH_SOURCE: "campus_edxapp", MONGODB_USE_SSL: true,
      PLUGINS: ["mfe", "forum", "ocim"],
    });
    expect(String(config.JWT_RSA_PRIVATE_KEY)).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+-----END RSA PRIVATE KEY-----\n$/);
    expect(config).not.toHaveProperty("EDX_PLATFORM_REPOSITORY");
    // Only the owner reads it: it holds the passwords.
    expect(execFileSync("stat", ["-c", "%a", path.join(home("campus-as1"), ".local/share/tutor/config.yml")], { encoding: "utf8" }).trim()).toBe("600");
  });

  it("writes an Ocim plugin that asks for the instance's basic auth on every host but /heartbeat, serves the LMS on the VM's address, and skips Tutor's MySQL init", () => {
    const plugin = tutorFile("campus-as1", "tutor-plugins/ocim.py");
    const auth = basicAuthFor(deps.secrets, instance);
    expect(plugin).not.toContain(auth.password);
    const m = /@ocim_protected not path \/heartbeat\nbasicauth @ocim_protected \{\n {4}"([^"]+)" ([A-Za-z0-9+/=]+)\n\}/.exec(plugin);
    expect(m, plugin).not.toBeNull();
    expect(m![1]).toBe(auth.user);
    // The hash Caddy gets is a bcrypt of the password (checked by libcrypt, as Caddy's bcrypt would).
    const hash = Buffer.from(m![2]!, "base64").toString();
    expect(hash).toMatch(/^\$2b\$12\$/);
    const check = execFileSync("python3", ["-c", "import ctypes,ctypes.util,sys; l=ctypes.CDLL(ctypes.util.find_library('crypt')); l.crypt.restype=ctypes.c_char_p; l.crypt.argtypes=[ctypes.c_char_p,ctypes.c_char_p]; print(l.crypt(sys.argv[1].encode(), sys.argv[2].encode()).decode())", auth.password, hash], { encoding: "utf8" }).trim();
    expect(check).toBe(hash);
    expect(plugin).toContain(`http://{$default_site_port} {\n    request_header Host "lms.campus.test"\n    import proxy "lms:8000"\n}`);
    expect(plugin).toContain('MYSQL_INIT = env.read_core_template_file("jobs", "init", "mysql.sh")');
    // It is Python that compiles (Tutor is not here to import it).
    execFileSync("python3", ["-c", "import sys; compile(open(sys.argv[1]).read(), 'ocim.py', 'exec')", path.join(home("campus-as1"), ".local/share/tutor-plugins/ocim.py")]);
  });

  it("lets the organization's members in with their keys, in a block of its own", () => {
    const keys = readFileSync(path.join(home("campus-as1"), ".ssh/authorized_keys"), "utf8");
    expect(keys).toBe([
      "# BEGIN Ocim: the organization's members",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAlice alice@laptop alice@github",
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBob bob@github",
      "# END Ocim: the organization's members",
      "",
    ].join("\n"));
  });

  it("fails at the launch with where its output is, then a re-run finishes, keeping what Tutor generated and installing nothing twice", async () => {
    const { shell } = await vmFor("campus-as1");
    await shell.exec(`touch "$HOME/standin-state/fail-launch"`);
    const failed = await run("campus-as1", plans[0]!);
    expect(failed.exit).toBe(2);
    expect(failed.log).toContain(`tutor local launch failed (exit 3); its output is in ${home("campus-as1")}/ocim-tutor-launch.log on the VM.`);
    await shell.exec(`rm "$HOME/standin-state/fail-launch"`);
    const again = await run("campus-as1", plans[0]!);
    expect(again.exit, again.log).toBe(0);
    expect(again.calls).toEqual([
      "hostnamectl set-hostname campus-as1",
      "docker --version",
      "docker compose version",
      "pipx --version",
      "tutor --version",
      "tutor config printroot",
      "tutor plugins printroot",
      "tutor plugins enable mfe forum ocim",
      "tutor config save",
      "tutor local launch --non-interactive",
    ]);
    const config = parseYaml(tutorFile("campus-as1", "tutor/config.yml")) as Record<string, unknown>;
    expect(config.MEILISEARCH_API_KEY).toBe("generated-by-tutor");
    expect(config.LMS_HOST).toBe("lms.campus.test");
  });

  it("gives a second appserver of the instance the same secrets and data login, under its own hostname", async () => {
    const { exit, log, calls } = await run("campus-as2", plans[1]!);
    expect(exit, log).toBe(0);
    expect(calls[0]).toBe("hostnamectl set-hostname campus-as2");
    const [one, two] = ["campus-as1", "campus-as2"].map((vm) => parseYaml(tutorFile(vm, "tutor/config.yml")) as Record<string, unknown>);
    for (const name of ["OPENEDX_SECRET_KEY", "JWT_COMMON_SECRET_KEY", "JWT_RSA_PRIVATE_KEY", "CMS_OAUTH2_SECRET", "ID", "MEILISEARCH_MASTER_KEY", "MEILISEARCH_API_KEY_UID", "OPENEDX_MYSQL_USERNAME", "OPENEDX_MYSQL_PASSWORD", "MONGODB_PASSWORD"]) {
      expect(two![name], name).toBeTruthy();
      expect(two![name], name).toBe(one![name]);
    }
  });

  it("builds the image of an edx-platform fork and installs tutor-contrib-s3 for the instance's storage (Teak)", async () => {
    const storage = await deps.db.dataService.create({
      data: { name: "Storage", kind: "s3", settings: { region: "eu-west-1" }, credentialsEncrypted: deps.secrets.encrypt(JSON.stringify({ accessKeyId: "AKIDTEST", secretAccessKey: "s3-secret-key" })) },
    });
    const fork = await makeInstance(deps, {
      slug: "forked", internalLmsDomain: "lms.forked.test", recipe: "tutor", openedxRelease: "teak", edxPlatformRepoUrl: "https://github.com/campus/edx-platform.git",
      edxPlatformBranch: "campus/teak", tutorPlugins: [], storageServiceId: storage.id, jwtKeyEncrypted: await newJwtKey(deps.secrets),
    });
    const plan = await deps.db.$transaction((tx) => planLaunch(tx, deps, fork, 1));
    const { exit, log, calls } = await run("forked-as1", plan);
    expect(exit, log).toBe(0);
    expect(log).not.toContain("s3-secret-key");
    expect(calls.slice(8)).toEqual([
      "pipx install --force tutor[full]>=20.0.0,<21.0.0",
      "pipx inject tutor git+https://github.com/hastexo/tutor-contrib-s3@v2.3.1",
      "tutor config printroot",
      "tutor plugins printroot",
      "tutor plugins enable mfe s3 ocim",
      "tutor config save",
      "tutor images build openedx",
      "tutor local launch --non-interactive",
    ]);
    const config = parseYaml(tutorFile("forked-as1", "tutor/config.yml")) as Record<string, unknown>;
    expect(config).toMatchObject({
      EDX_PLATFORM_REPOSITORY: "https://github.com/campus/edx-platform.git", EDX_PLATFORM_VERSION: "campus/teak", DOCKER_IMAGE_OPENEDX: "ocim/openedx:lms.forked.test",
      OPENEDX_AWS_ACCESS_KEY: "AKIDTEST", OPENEDX_AWS_SECRET_ACCESS_KEY: "s3-secret-key", S3_STORAGE_BUCKET: instanceDataPlan(deps.secrets, fork, []).storage.bucket, S3_REGION: "eu-west-1",
    });
    // Tutor runs its own MySQL here: the plugin keeps Tutor's MySQL init.
    expect(tutorFile("forked-as1", "tutor-plugins/ocim.py")).not.toContain("MYSQL_INIT");
  });

  it("refuses to run on anything but Ubuntu LTS, before installing anything", async () => {
    const { exit, log, calls } = await run("campus-as1", plans[0]!, { ansible_distribution: "Debian", ansible_distribution_version: "12.5" });
    expect(exit).toBe(2);
    expect(log).toContain("The tutor recipe runs on Ubuntu LTS (22.04, 24.04…); this VM runs Debian 12.5. Pick an Ubuntu LTS image for the provider.");
    expect(calls).toEqual([]);
  });
});
