// The local provider: real sshd processes on their own loopback addresses, state in files under
// DATA_DIR, so a restarted Ocim finds its VMs (and restarts an sshd that died).
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalProvider, LOCAL_NOT_ISOLATED } from "../src/adapters/provider/local.js";
import { ProviderError } from "../src/adapters/provider/port.js";
import { retryable } from "../src/jobs/retry.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { waitFor } from "./helpers/wait.js";

function sshdPidOf(vms: LocalVms, name: string): number {
  return Number(readFileSync(path.join(vms.dataDir, "vms", name, "sshd.pid"), "utf8").trim());
}

/** A server listening on host:port, or undefined while another socket still holds it. */
function holdPort(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(undefined) : reject(err)));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function running(pid: number): boolean {
  // A zombie (exited, not yet reaped) has an empty command line.
  return existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, "utf8") !== "";
}

describe("local provider", () => {
  let vms: LocalVms;
  beforeAll(async () => {
    vms = await localVms();
  });
  afterAll(() => vms?.cleanup());

  it("refuses to run with NODE_ENV=production, saying why", () => {
    let error: unknown;
    try {
      createLocalProvider({ dataDir: vms.dataDir, nodeEnv: "production", addressPrefix: vms.addressPrefix, sshPort: 0 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toContain("refuses to run with NODE_ENV=production");
    expect((error as Error).message).toContain("not isolated");
    expect(retryable(error)).toBe(false);
  });

  it("says it is not isolated", () => {
    expect(vms.provider().isolated).toBe(false);
    expect(LOCAL_NOT_ISOLATED).toContain("not isolated machines");
  });

  it("gives each VM its own loopback address, and the same VM again for the same name", async () => {
    const p = vms.provider();
    const a = await p.createServer({ name: "local-as1" });
    const b = await p.createServer({ name: "local-as2" });
    expect(a.publicIp).toBe(`${vms.addressPrefix}.2`);
    expect(b.publicIp).toBe(`${vms.addressPrefix}.3`);
    const again = await p.createServer({ name: "local-as1" });
    expect(again.id).toBe(a.id);
    expect(again.publicIp).toBe(a.publicIp);
  });

  it("starts sessions in the VM's home under DATA_DIR, with HOME there, so a playbook writes only below it", async () => {
    const vm = (await vms.provider().findServerByName("local-as1"))!;
    const home = path.join(vms.dataDir, "vms", "local-as1", "home");
    expect(vm.workDir).toBe(path.join(home, "ocim"));
    const shell = await vms.connect(vm);
    const out = await shell.exec('pwd; echo "$HOME"; echo "$OCIM_VM_ADDRESS"; echo "$PATH"', { timeoutMs: 10_000 });
    // A fresh VM's environment: whatever the host user's shell profile adds does not leak in. The
    // VM's own bin/ (stand-ins for a real VM's programs) comes first.
    const bin = path.join(vms.dataDir, "vms", "local-as1", "bin");
    expect(out.stdout.split("\n")).toEqual([home, home, vm.publicIp, `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, ""]);
    await shell.uploadFile("relative.txt", "here\n");
    expect(readFileSync(path.join(home, "relative.txt"), "utf8")).toBe("here\n");
  });

  it("survives a restart of Ocim: a new provider finds the VM by name and restarts its sshd if it died", async () => {
    const before = (await vms.provider().findServerByName("local-as2"))!;
    const pid = sshdPidOf(vms, "local-as2");
    process.kill(pid, "SIGKILL"); // our own sshd, as a host reboot or OOM kill would
    const deadline = Date.now() + 5_000;
    while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(running(pid)).toBe(false);

    const restarted = vms.provider();
    const found = await restarted.findServerByName("local-as2");
    expect(found).toMatchObject({ id: before.id, publicIp: before.publicIp, sshPort: before.sshPort, status: "ready" });
    expect(sshdPidOf(vms, "local-as2")).not.toBe(pid);
    const shell = await vms.connect(found!);
    expect((await shell.exec("echo back", { timeoutMs: 10_000 })).stdout).toBe("back\n");
  });

  it("restarts a dead sshd on getServer too", async () => {
    const vm = (await vms.provider().findServerByName("local-as1"))!;
    const pid = sshdPidOf(vms, "local-as1");
    process.kill(pid, "SIGKILL");
    while (running(pid)) await new Promise((r) => setTimeout(r, 20));
    const again = await vms.provider().getServer(vm.id);
    expect(again?.status).toBe("ready");
    expect(running(sshdPidOf(vms, "local-as1"))).toBe(true);
  });

  it("restarts a dead sshd whose port another process still holds for a moment", async () => {
    // As when an sshd is killed just after forking a connection's child, which keeps a copy of the
    // listening socket until it closes it: the first start finds the port taken; a later one serves.
    const vm = (await vms.provider().findServerByName("local-as1"))!;
    const pid = sshdPidOf(vms, "local-as1");
    process.kill(pid, "SIGKILL");
    while (running(pid)) await new Promise((r) => setTimeout(r, 20));
    // The killed sshd's socket may outlive it for a moment too (a connection's child closing its
    // copy): take the port once it is free, rather than fail on the first try (CI once did, EADDRINUSE).
    const holder = await waitFor("the dead sshd's port to be free for the test to hold", () => holdPort(vm.publicIp!, vm.sshPort), 10_000, 20);
    const log = path.join(vms.dataDir, "vms", "local-as1", "sshd.log");
    const logBefore = readFileSync(log, "utf8").length;
    const released = waitFor("a start to find the port taken", async () => readFileSync(log, "utf8").slice(logBefore).includes("Address already in use"), 10_000, 20)
      .then(() => new Promise((r) => holder.close(r)));
    const again = await vms.provider().getServer(vm.id);
    await released;
    expect(again?.status).toBe("ready");
    const shell = await vms.connect(again!);
    expect((await shell.exec("echo served", { timeoutMs: 10_000 })).stdout).toBe("served\n");
  });

  it("keeps one provider key: every provider object logs in with the same one", async () => {
    const [a, b] = await Promise.all([vms.provider().sshLogin(), vms.provider().sshLogin()]);
    expect(a.privateKey).toBe(b.privateKey);
    expect(a.privateKey).toContain("OPENSSH PRIVATE KEY");
  });

  it("deleting a VM stops its sshd and what its sessions left running, and removes its directory", async () => {
    const p = vms.provider();
    const vm = await p.createServer({ name: "local-gone" });
    const shell = await vms.connect(vm);
    // The process writes its own pid: `$!` names setsid, which forks (and exits) when it leads its
    // process group, and CI once read that exited pid.
    await shell.exec("setsid sh -c 'echo $$ > leftover.pid; exec sleep 600' > /dev/null 2>&1 < /dev/null &", { timeoutMs: 10_000 });
    const leftover = await waitFor("the leftover process's pid", async () => Number((await shell.exec("cat leftover.pid 2>/dev/null || true")).stdout.trim()) || undefined, 10_000, 50);
    await waitFor("the leftover to run sleep", async () => running(leftover) && readFileSync(`/proc/${leftover}/cmdline`, "utf8").startsWith("sleep"), 10_000, 50);
    const sshd = sshdPidOf(vms, "local-gone");
    await shell.close();

    await p.deleteServer(vm.id);
    expect(running(sshd)).toBe(false);
    expect(running(leftover)).toBe(false);
    expect(existsSync(path.join(vms.dataDir, "vms", "local-gone"))).toBe(false);
    expect(await p.getServer(vm.id)).toBeNull();
  });

  it("a re-created VM of the same name has a new id: the old id stays gone", async () => {
    const p = vms.provider();
    const first = await p.createServer({ name: "local-again" });
    await p.deleteServer(first.id);
    const second = await p.createServer({ name: "local-again" });
    expect(second.id).not.toBe(first.id);
    expect(await p.getServer(first.id)).toBeNull();
    await p.deleteServer(first.id); // the stale id must not delete the new VM
    expect((await p.getServer(second.id))?.status).toBe("ready");
  });

  it("rejects a name that cannot be a VM name, saying what is allowed", async () => {
    await expect(vms.provider().createServer({ name: "../etc" })).rejects.toThrow('"../etc" is not a valid VM name: letters, digits, "-" and "_"');
    expect(await vms.provider().findServerByName("../etc")).toBeNull();
  });
});
