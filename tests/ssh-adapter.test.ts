// The SSH adapter against a real sshd (a local-provider VM): exec, SFTP upload, reading a growing
// file from stored offsets, deadlines, and the errors an operator would see.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pino } from "pino";
import { type ServerInfo } from "../src/adapters/provider/port.js";
import { portAnswers } from "../src/adapters/provider/tcp.js";
import { SshError, type SshSession } from "../src/adapters/ssh/port.js";
import { shellQuote } from "../src/adapters/ssh/quote.js";
import { createSsh2Client } from "../src/adapters/ssh/ssh2.js";
import { retryable } from "../src/jobs/retry.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { waitFor } from "./helpers/wait.js";

const ssh = createSsh2Client({ connectTimeoutMs: 20_000 });

async function failure(work: Promise<unknown>): Promise<SshError> {
  const err = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SshError);
  return err as SshError;
}

describe("SSH adapter (ssh2) on a local VM", () => {
  let vms: LocalVms;
  let vm: ServerInfo;
  let shell: SshSession;
  let home: string;
  beforeAll(async () => {
    vms = await localVms();
    vm = await vms.provider().createServer({ name: "ssh-as1" });
    shell = await vms.connect(vm);
    home = path.join(vms.dataDir, "vms", "ssh-as1", "home");
  });
  afterAll(() => vms?.cleanup());

  it("runs a command and returns its exit code, output and error output", async () => {
    const ok = await shell.exec("echo out; echo err >&2", { timeoutMs: 10_000 });
    expect(ok).toEqual({ code: 0, stdout: "out\n", stderr: "err\n" });
    const failed = await shell.exec("exit 7", { timeoutMs: 10_000 });
    expect(failed.code).toBe(7);
  });

  it("passes quoted arguments through the remote shell unchanged", async () => {
    const value = `it's "$HOME" and \`id\`; rm -rf /`;
    const out = await shell.exec(`printf '%s' ${shellQuote(value)}`, { timeoutMs: 10_000 });
    expect(out.stdout).toBe(value);
  });

  it("stops a command that outlives its timeout, with an error that says so", async () => {
    // A duration no other process on this shared host uses, so the check below sees only this one
    // (a machine-wide "sleep 300" from elsewhere once made it fail).
    const secs = `300.${process.pid}`;
    const err = await failure(shell.exec(`sleep ${secs}; echo never`, { timeoutMs: 1_000 }));
    expect(err.reason).toBe("command_timeout");
    expect(err.message).toContain("did not finish within 1 s and was stopped");
    expect(retryable(err)).toBe(true);
    // The bracket keeps this very command line from matching itself.
    const pattern = `^sleep ${secs.slice(0, -1)}[${secs.slice(-1)}]$`;
    await waitFor("the timed-out command's process to end", async () =>
      (await shell.exec(`ps -eo args | grep -c '${pattern}' || true`, { timeoutMs: 10_000 })).stdout.trim() === "0", 10_000, 100);
  });

  it("uploads a file with the mode asked for, replacing an older one whole", async () => {
    await shell.uploadFile("vars.yml", "COMMON_HOSTNAME: first\n", 0o600);
    await shell.uploadFile("vars.yml", "COMMON_HOSTNAME: second\n", 0o600);
    expect(readFileSync(path.join(home, "vars.yml"), "utf8")).toBe("COMMON_HOSTNAME: second\n");
    expect((await shell.exec("stat -c %a vars.yml", { timeoutMs: 10_000 })).stdout.trim()).toBe("600");
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 0xab);
    await shell.uploadFile(`${home}/big.bin`, big, 0o644);
    expect(readFileSync(path.join(home, "big.bin")).equals(big)).toBe(true);
    expect((await shell.exec("ls -a | grep -c ocim- || true", { timeoutMs: 10_000 })).stdout.trim()).toBe("0");
  });

  it("reports an upload into a directory that does not exist", async () => {
    const err = await failure(shell.uploadFile("no/such/dir/vars.yml", "x"));
    expect(err.reason).toBe("sftp");
    expect(err.message).toBe("Could not upload no/such/dir/vars.yml over SFTP: no such file or directory.");
  });

  it("reads a growing file from stored offsets: nothing lost, nothing twice", async () => {
    const missing = await shell.readFrom("playbook.log", 0, 1024);
    expect(missing).toEqual({ bytes: Buffer.alloc(0), newOffset: 0, exists: false });

    await shell.exec("printf 'TASK [one]\\nok\\n' >> playbook.log", { timeoutMs: 10_000 });
    const first = await shell.readFrom("playbook.log", 0, 1024);
    expect(first.bytes.toString()).toBe("TASK [one]\nok\n");
    expect(first.newOffset).toBe(14);

    const idle = await shell.readFrom("playbook.log", first.newOffset, 1024);
    expect(idle).toEqual({ bytes: Buffer.alloc(0), newOffset: 14, exists: true });

    await shell.exec("printf 'TASK [two]\\nchanged\\n' >> playbook.log", { timeoutMs: 10_000 });
    const small = await shell.readFrom("playbook.log", first.newOffset, 5);
    expect(small.bytes.toString()).toBe("TASK ");
    const rest = await shell.readFrom("playbook.log", small.newOffset, 1024);
    expect(rest.bytes.toString()).toBe("[two]\nchanged\n");
    expect(first.bytes.toString() + small.bytes.toString() + rest.bytes.toString()).toBe(readFileSync(path.join(home, "playbook.log"), "utf8"));
  });

  it("reads more than one SFTP packet in one call", async () => {
    await shell.exec("head -c 200000 /dev/zero | tr '\\0' 'x' > wide.log", { timeoutMs: 10_000 });
    const all = await shell.readFrom("wide.log", 0, 1_000_000);
    expect(all.bytes.length).toBe(200_000);
    expect(all.newOffset).toBe(200_000);
  });

  it("gives up on an address where nothing answers once the deadline passes", async () => {
    const login = await vms.provider().sshLogin();
    const err = await failure(ssh.connect({ host: `${vms.addressPrefix}.250`, port: 22, ...login, deadlineMs: 1_500 }));
    expect(err.reason).toBe("unreachable");
    expect(err.message).toMatch(new RegExp(`^Could not connect to ${login.username}@${vms.addressPrefix.replaceAll(".", "\\.")}\\.250:22 within 1\\.5 s: connection refused \\(\\d+ attempts\\)\\.$`));
    expect(retryable(err)).toBe(true);
  });

  it("keeps trying while the VM's sshd is down, and connects once it is back", async () => {
    const events: string[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => void events.push(JSON.parse(line).event) });
    const client = createSsh2Client({ connectTimeoutMs: 20_000, log });
    process.kill(Number(readFileSync(path.join(vms.dataDir, "vms", "ssh-as1", "sshd.pid"), "utf8")), "SIGTERM");
    while (await portAnswers(vm.publicIp!, vm.sshPort, 500)) await new Promise((r) => setTimeout(r, 20));

    const connecting = client.connect({ host: vm.publicIp!, port: vm.sshPort, ...(await vms.provider().sshLogin()) });
    while (!events.includes("ssh.connect.retry")) await new Promise((r) => setTimeout(r, 20));
    expect(await vms.provider().getServer(vm.id)).toMatchObject({ status: "ready" }); // restarts the sshd
    const session = await connecting;
    expect((await session.exec("echo up", { timeoutMs: 10_000 })).stdout).toBe("up\n");
    await session.close();
  });

  it("refuses a key the VM does not accept, at once and clearly", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    const privateKey = readFileSync(path.join(dir, "k"), "utf8");
    rmSync(dir, { recursive: true });
    const err = await failure(ssh.connect({ host: vm.publicIp!, port: vm.sshPort, username: os.userInfo().username, privateKey, deadlineMs: 20_000 }));
    expect(err.reason).toBe("auth");
    expect(err.message).toBe(`The SSH server at ${os.userInfo().username}@${vm.publicIp}:${vm.sshPort} refused the key (public key authentication failed).`);
    expect(retryable(err)).toBe(false);
    expect(err.message).not.toContain("PRIVATE KEY");
  });

  it("refuses a private key it cannot read, without quoting it", async () => {
    const err = await failure(ssh.connect({ host: vm.publicIp!, port: vm.sshPort, username: "root", privateKey: "not-a-key-hunter2" }));
    expect(err.reason).toBe("key");
    expect(err.message).not.toContain("hunter2");
  });

  it("pins the host key: the one seen before is accepted, another is refused", async () => {
    const login = await vms.provider().sshLogin();
    const target = { host: vm.publicIp!, port: vm.sshPort, ...login };
    const pinned = await ssh.connect({ ...target, hostKeyFingerprint: shell.hostKeyFingerprint });
    await pinned.close();
    expect(shell.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const err = await failure(ssh.connect({ ...target, hostKeyFingerprint: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
    expect(err.reason).toBe("host_key");
    expect(err.message).toContain("not the expected SHA256:AAAA");
  });

  it("says the connection is lost when a command runs on a closed session", async () => {
    const session = await vms.connect(vm);
    await session.close();
    const err = await failure(session.exec("true"));
    expect(err.reason).toBe("connection_lost");
  });
});
