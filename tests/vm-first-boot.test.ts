// A new VM's first boot and its SSH host key, on real local VMs (sshd): provisioning waits for
// cloud-init before the playbook, fails the launch on cloud-init's error with its own words, records
// the VM's host key at the first connection (shown on the appserver page), and refuses every later
// connection to a VM whose host key changed, before anything runs on it.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeInstance } from "./helpers/factories.js";
import { makeGitRepo, QUICK_PLAYBOOK } from "./helpers/git-repo.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { provisionAppServer } from "../src/domain/provisioning/provision-appserver.js";
import { stopPlaybook } from "../src/domain/provisioning/stop-playbook.js";
import { syncSshAccess } from "../src/domain/sshkeys/sync-ssh-access.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { generateKey, vmPaths } from "../src/adapters/provider/local-vm.js";
import { stopSshd } from "../src/adapters/provider/local-sshd.js";

// Stand-ins for cloud-init in the VM's own bin/ (first on its sessions' PATH). Their output is what
// cloud-init 24.x prints: dots while --wait waits, then the status; --long lists the errors.
const CLOUD_INIT_DONE = `#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
[ "$*" = "status --wait" ] || exit 0
for _ in 1 2 3; do printf .; sleep 0.2; done
printf '\\nstatus: done\\n'
`;
// 23.4 and later: done, with recoverable errors (a deprecated key, a warning) — exit 2.
const CLOUD_INIT_DEGRADED = `#!/bin/sh
[ "$*" = "status --wait" ] && printf '.\nstatus: done\n' && exit 2
exit 0
`;
const CLOUD_INIT_ERROR = `#!/bin/sh
case "$*" in
  "status --wait") printf '..\\nstatus: error\\n'; exit 1 ;;
  "status --long") cat <<'OUT'
status: error
extended_status: error - done
boot_status_code: enabled-by-generator
last_update: Tue, 01 Dec 2026 06:00:00 +0000
detail: DataSourceOpenStackLocal [net,ver=2]
errors:
	- ('scripts_user', RuntimeError('Runparts: 1 failures (part-001) in 1 attempted commands'))
recoverable_errors: {}
OUT
  exit 1 ;;
esac
`;

describe("a new VM's first boot and host key", () => {
  let vms: LocalVms;
  let t: TestApp;
  let repo: ReturnType<typeof makeGitRepo>;

  beforeAll(async () => {
    vms = await localVms();
    t = await startTestApp(vms.env);
    repo = makeGitRepo({ "playbooks/quick.yml": QUICK_PLAYBOOK });
  });
  afterAll(async () => {
    await vms?.cleanup();
    await t?.close();
    if (repo) rmSync(repo.dir, { recursive: true, force: true });
  });

  const ports = () => createProvisioningPorts(t.deps);
  const lines = async (id: number) => (await t.deps.db.logEntry.findMany({ where: { appServerId: id }, orderBy: { seq: "asc" } })).map((l) => l.text);

  /** Launches an appserver whose VM will have the given cloud-init, and runs its provisioning. */
  async function launchWith(cloudInit: string) {
    const instance = await makeInstance(t.deps, { configurationRepoUrl: repo.url, configurationBranch: repo.branch, playbookPath: "playbooks/quick.yml" });
    const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "tester" } });
    // The VM's directory before the VM: the provider makes its files around it.
    const paths = vmPaths(path.join(vms.dataDir, "vms"), `${instance.slug}-as${as.number}`);
    const bin = path.join(paths.dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "cloud-init"), cloudInit, { mode: 0o755 });
    const status = await provisionAppServer(t.deps, { appServerId: as.id }, ports(), { pollMs: 100 });
    return { status, paths, row: await t.deps.db.appServer.findUniqueOrThrow({ where: { id: as.id } }) };
  }

  let first: Awaited<ReturnType<typeof launchWith>>;

  it("waits for cloud-init before the playbook, records the VM's host key at the first connection and shows it", async () => {
    first = await launchWith(CLOUD_INIT_DONE);
    expect(first.status, first.row.failureSummary).toBe("running");
    expect(readFileSync(path.join(first.paths.dir, "bin", "calls"), "utf8")).toBe("status --wait\n");
    const log = await lines(first.row.id);
    const at = (text: string) => log.findIndex((l) => l.includes(text));
    expect(at("[ocim] cloud-init is done (status: done).")).toBeGreaterThan(at("[ocim] Waiting for cloud-init to finish the VM's first boot"));
    expect(at("[ocim] Uploading the playbook variables.")).toBeGreaterThan(at("[ocim] cloud-init is done"));
    expect(at("[ocim] Waiting for cloud-init")).toBeGreaterThan(-1);

    const keygen = execFileSync("ssh-keygen", ["-lf", `${first.paths.hostKey}.pub`], { encoding: "utf8" });
    const fingerprint = keygen.split(" ")[1]!;
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(first.row.hostKeyFingerprint).toBe(fingerprint);
    const admin = await t.loginAs("ann", { admin: true });
    expect(visibleText((await admin.get(`/appservers/${first.row.id}`)).text)).toContain(`SSH host key ${fingerprint}`);
    expect(visibleText((await admin.get(`/admin/app-servers/${first.row.id}`)).text)).toContain(`SSH host key ${fingerprint}`);
  });

  it("refuses a VM whose host key changed, for the SSH access sync and stop-playbook, before anything runs", async () => {
    const { paths, row } = first;
    // The VM "reinstalled": a new host key behind the same address.
    await stopSshd(paths);
    await rm(paths.hostKey);
    await rm(`${paths.hostKey}.pub`);
    await generateKey(paths.hostKey, "reinstalled");
    expect((await vms.provider().getServer(row.providerServerId!))?.status).toBe("ready"); // sshd started again
    const logins = () => (readFileSync(paths.log, "utf8").match(/Accepted publickey/g) ?? []).length;
    const before = logins();

    const sync = await syncSshAccess(t.deps, ports());
    const refusal = sync.failed.find((f) => f.appServerId === row.id)?.message ?? "";
    expect(refusal).toContain(`Refused to connect to ${row.name}: its VM's SSH host key has changed since Ocim first connected.`);
    expect(refusal).toContain(`not the expected ${row.hostKeyFingerprint}`);
    expect(refusal).toMatch(/Nothing was run on the VM\. Either someone is intercepting the connection \(a man in the middle\), or the VM was reinstalled/);
    expect(refusal).toContain("terminate this appserver and launch a new one");
    await expect(stopPlaybook(t.deps, { appServerId: row.id }, ports())).rejects.toThrow(/SSH host key has changed/);

    expect(logins()).toBe(before);
    const after = await t.deps.db.appServer.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.hostKeyFingerprint).toBe(row.hostKeyFingerprint);
  });

  it("goes on after cloud-init is done with recoverable errors, with a warning in the log", async () => {
    const { status, row } = await launchWith(CLOUD_INIT_DEGRADED);
    expect(status, row.failureSummary).toBe("running");
    const entries = await t.deps.db.logEntry.findMany({ where: { appServerId: row.id, text: { contains: "recoverable errors" } } });
    expect(entries.map((e) => [e.level, e.text])).toEqual([
      ["warn", "[ocim] cloud-init is done with recoverable errors (status: done); going on. SSH in and run cloud-init status --long for the detail."],
    ]);
  });

  it("fails the launch with cloud-init's own error and keeps the VM, before any playbook step", async () => {
    const { status, row } = await launchWith(CLOUD_INIT_ERROR);
    expect(status).toBe("error");
    expect(row.failureSummary).toBe(
      "cloud-init failed on the VM (exit 1, status: error): ('scripts_user', RuntimeError('Runparts: 1 failures (part-001) in 1 attempted commands'))",
    );
    const log = await lines(row.id);
    expect(log).toContain("[ocim] extended_status: error - done");
    expect(log.at(-1)).toContain("The VM is kept: SSH in and read /var/log/cloud-init.log");
    expect((await vms.provider().getServer(row.providerServerId!))?.status).toBe("ready");
    const steps = await t.deps.db.appServerStep.findMany({ where: { appServerId: row.id }, select: { name: true } });
    expect(steps.map((s) => s.name)).not.toContain("upload-vars");
  });
});
