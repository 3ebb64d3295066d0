// The local provider (DESIGN §6): a "VM" is an sshd bound to its own loopback address 127.0.0.N
// with its own home under DATA_DIR/vms/<name>/, reached as the user running Ocim with a key Ocim
// keeps under DATA_DIR. For development, demos and tests: it is NOT isolated (the playbook runs as
// this user on this host), so it refuses to run in production. Its state is files, so a restarted
// Ocim finds its VMs again and restarts an sshd that died.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { constants } from "node:fs";
import { access, mkdir, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../../logger.js";
import { withFileLock } from "./file-lock.js";
import { findProgram, sshdPid, startSshd, stopSshd, stopVmProcesses } from "./local-sshd.js";
import { createVmFiles, generateKey, readRecord, vmPaths, writeSshdFiles, type SshdSetup, type VmPaths, type VmRecord } from "./local-vm.js";
import { ProviderError, SERVER_NAME, type ConnectionCheck, type CreateServerInput, type Provider, type ServerInfo, type SshLogin } from "./port.js";
import { portAnswers, tryBind } from "./tcp.js";

export interface LocalProviderOptions {
  dataDir: string;
  /** NODE_ENV; "production" is refused. */
  nodeEnv: string;
  /** VMs get <prefix>.2 … <prefix>.254 (LOCAL_VM_ADDRESS_PREFIX). */
  addressPrefix: string;
  /** Every VM's sshd port (LOCAL_VM_SSH_PORT); 0 picks a free port per VM. */
  sshPort: number;
  log?: Logger;
}

const LOCK_DEADLINE_MS = 30_000;

export const LOCAL_NOT_ISOLATED =
  "Local VMs are sshd processes on the Ocim host, not isolated machines: their playbooks run as the user running Ocim, on this host.";

export function createLocalProvider(opts: LocalProviderOptions): Provider & { check(): Promise<ConnectionCheck> } {
  if (opts.nodeEnv === "production") {
    throw new ProviderError(`The local provider refuses to run with NODE_ENV=production. ${LOCAL_NOT_ISOLATED} Use the openstack provider.`, false);
  }
  return new LocalProvider(opts);
}

class LocalProvider implements Provider {
  readonly kind = "local";
  readonly isolated = false;
  private readonly vmsDir: string;
  private readonly keyFile: string;
  private readonly username = os.userInfo().username;
  private programs: { sshd: string; sftpServer: string } | null = null;

  constructor(private readonly opts: LocalProviderOptions) {
    this.vmsDir = path.join(opts.dataDir, "vms");
    this.keyFile = path.join(opts.dataDir, "provider-key", "id_ed25519");
  }

  async createServer({ name }: CreateServerInput): Promise<ServerInfo> {
    checkName(name);
    const paths = vmPaths(this.vmsDir, name);
    await mkdir(this.vmsDir, { recursive: true });
    const setup = await this.setup();
    return this.lockVm(name, async () => {
      // The name is the VM: creating it again (a retried job) gives the one already there.
      const existing = await readRecord(paths);
      if (existing) return this.inspect(paths, existing);
      const record = await this.lock(".addresses.lock", async () => {
        const fresh = await this.allocate(name);
        await createVmFiles(paths, fresh, setup);
        return fresh;
      });
      this.opts.log?.info({ event: "provider.local.created", vm: name, address: record.address, port: record.sshPort }, "provider.local.created");
      await startSshd(this.tools().sshd, paths, record);
      return this.inspect(paths, record);
    });
  }

  async getServer(id: string): Promise<ServerInfo | null> {
    const name = nameOf(id);
    if (!name) return null;
    const paths = vmPaths(this.vmsDir, name);
    return this.lockVm(name, async () => {
      const record = await readRecord(paths);
      return record?.id === id ? this.inspect(paths, record) : null;
    });
  }

  async findServerByName(name: string): Promise<ServerInfo | null> {
    if (!SERVER_NAME.test(name)) return null;
    const paths = vmPaths(this.vmsDir, name);
    if (!existsSync(paths.dir)) return null;
    return this.lockVm(name, async () => {
      const record = await readRecord(paths);
      return record ? this.inspect(paths, record) : null;
    });
  }

  async listServers(): Promise<{ id: string; name: string }[]> {
    const names = await readdir(this.vmsDir).catch(() => [] as string[]);
    const out: { id: string; name: string }[] = [];
    for (const name of names.filter((n) => SERVER_NAME.test(n))) {
      const record = await readRecord(vmPaths(this.vmsDir, name)).catch(() => null);
      if (record) out.push({ id: record.id, name });
    }
    return out;
  }

  async deleteServer(id: string): Promise<void> {
    const name = nameOf(id);
    if (!name || !existsSync(vmPaths(this.vmsDir, name).dir)) return;
    const paths = vmPaths(this.vmsDir, name);
    await this.lockVm(name, async () => {
      const record = await readRecord(paths);
      if (record?.id !== id) return; // an older VM of the same name: already gone
      await stopSshd(paths);
      await stopVmProcesses(id);
      await rm(paths.dir, { recursive: true, force: true });
      this.opts.log?.info({ event: "provider.local.deleted", vm: name }, "provider.local.deleted");
    });
  }

  async sshLogin(): Promise<SshLogin> {
    return { username: this.username, privateKey: (await this.providerKey()).privateKey };
  }

  /** The VM as seen now; an sshd that died (host reboot, crash, kill) is started again. */
  private async inspect(paths: VmPaths, record: VmRecord): Promise<ServerInfo> {
    if ((await sshdPid(paths)) === null) {
      this.opts.log?.info({ event: "provider.local.sshd_restart", vm: record.name }, "provider.local.sshd_restart");
      await writeSshdFiles(paths, record, await this.setup());
      await startSshd(this.tools().sshd, paths, record);
    }
    const ready = await portAnswers(record.address, record.sshPort, 2_000);
    return {
      id: record.id,
      name: record.name,
      status: ready ? "ready" : "booting",
      publicIp: record.address,
      sshPort: record.sshPort,
      workDir: path.join(paths.home, "ocim"),
    };
  }

  private async allocate(name: string): Promise<VmRecord> {
    const { addressPrefix, sshPort } = this.opts;
    const taken = new Set((await allRecords(this.vmsDir)).map((r) => r.address));
    for (let n = 2; n <= 254; n++) {
      const address = `${addressPrefix}.${n}`;
      if (taken.has(address)) continue;
      // Another Ocim (another DATA_DIR) or any other program may hold the address: skip it.
      const port = await tryBind(address, sshPort);
      if (port !== null) return { id: `${name}.${randomBytes(4).toString("hex")}`, name, address, sshPort: port, createdAt: new Date().toISOString() };
    }
    const hint = sshPort !== 0 ? ` Is something listening on port ${sshPort} of every address (or may this user not bind it)? Set LOCAL_VM_SSH_PORT=0 to give each VM a free port.` : "";
    throw new ProviderError(`No free local VM address in ${addressPrefix}.2-254.${hint}`, false);
  }

  private async providerKey(): Promise<{ privateKey: string; publicKey: string }> {
    const file = this.keyFile;
    if (!existsSync(file)) {
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await withFileLock(`${file}.lock`, LOCK_DEADLINE_MS, async () => {
        if (!existsSync(file)) await generateKey(file, `ocim-provider@${os.hostname()}`);
      });
    }
    return { privateKey: await readFile(file, "utf8"), publicKey: await readFile(`${file}.pub`, "utf8") };
  }

  private async setup(): Promise<SshdSetup> {
    return { username: this.username, providerPublicKey: (await this.providerKey()).publicKey, sftpServer: this.tools().sftpServer };
  }

  private tools(): { sshd: string; sftpServer: string } {
    return (this.programs ??= localPrograms());
  }

  /** "Test connection": what a local VM needs, each found or failing on its own line; nothing is started. */
  async check(): Promise<ConnectionCheck> {
    const lines: string[] = [];
    let ok = true;
    const step = async (work: () => Promise<string>) => {
      try {
        lines.push(await work());
      } catch (err) {
        ok = false;
        lines.push(err instanceof Error ? err.message : String(err));
      }
    };
    await step(async () => {
      const { sshd, sftpServer } = this.tools();
      return `OpenSSH: ${sshd} and ${sftpServer} found.`;
    });
    await step(async () => {
      await mkdir(this.vmsDir, { recursive: true });
      await access(this.vmsDir, constants.W_OK);
      return `VM directory ${this.vmsDir}: writable.`;
    });
    await step(async () => {
      const address = `${this.opts.addressPrefix}.2`;
      if ((await tryBind(address, 0)) === null) throw new ProviderError(`Cannot listen on ${address} (LOCAL_VM_ADDRESS_PREFIX): the VMs' addresses must be loopback addresses this host can bind.`, false);
      return `Addresses ${this.opts.addressPrefix}.2-254: ${address} can be bound.`;
    });
    await step(async () => {
      await this.providerKey();
      return `SSH key ${this.keyFile}: ready.`;
    });
    return { ok, lines };
  }

  /** One lock per VM (start, restart, delete) between all processes on this DATA_DIR. */
  private lockVm<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.lock(`.${name}.vm.lock`, work);
  }

  private lock<T>(file: string, work: () => Promise<T>): Promise<T> {
    return withFileLock(path.join(this.vmsDir, file), LOCK_DEADLINE_MS, work);
  }
}

function localPrograms(): { sshd: string; sftpServer: string } {
  const install = "apt-get install openssh-server";
  return {
    sshd: findProgram("OpenSSH's sshd", ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"], install),
    sftpServer: findProgram("OpenSSH's sftp-server", ["/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server"], install),
  };
}

function checkName(name: string): void {
  if (!SERVER_NAME.test(name)) {
    throw new ProviderError(`"${name}" is not a valid VM name: letters, digits, "-" and "_", at most 63, starting with a letter or digit.`, false);
  }
}

/** Ids are "<name>.<random>": the name finds the directory, the random part tells a re-created VM apart. */
function nameOf(id: string): string | null {
  const name = id.slice(0, id.lastIndexOf("."));
  return SERVER_NAME.test(name) ? name : null;
}

async function allRecords(vmsDir: string): Promise<VmRecord[]> {
  const names = await readdir(vmsDir).catch(() => [] as string[]);
  const records = await Promise.all(names.filter((n) => SERVER_NAME.test(n)).map((n) => readRecord(vmPaths(vmsDir, n)).catch(() => null)));
  return records.filter((r): r is VmRecord => r !== null);
}
