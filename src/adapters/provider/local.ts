// The local provider (DESIGN §6): a "VM" is an sshd bound to its own loopback address 127.0.0.N
// with its own home under DATA_DIR/vms/<name>/, reached as the user running Ocim with a key Ocim
// keeps under DATA_DIR. For development, demos and tests: it is NOT isolated (the playbook runs as
// this user on this host), so it refuses to run in production. Its state is files, so a restarted
// Ocim finds its VMs again and restarts an sshd that died.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "../../logger.js";
import { withFileLock } from "./file-lock.js";
import { findProgram, sshdPid, startSshd, stopSshd, stopVmProcesses } from "./local-sshd.js";
import { createVmFiles, generateKey, readRecord, vmPaths, writeSshdFiles, type SshdSetup, type VmPaths, type VmRecord } from "./local-vm.js";
import { ProviderError, SERVER_NAME, type Provider, type ServerInfo, type SshLogin } from "./port.js";
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

export function createLocalProvider(opts: LocalProviderOptions): Provider {
  if (opts.nodeEnv === "production") {
    throw new ProviderError(`The local provider refuses to run with NODE_ENV=production. ${LOCAL_NOT_ISOLATED} Use the openstack provider.`, false);
  }
  const vmsDir = path.join(opts.dataDir, "vms");
  const keyFile = path.join(opts.dataDir, "provider-key", "id_ed25519");
  const username = os.userInfo().username;
  // One lock per VM (start, restart, delete), one for choosing addresses.
  const lock = <T>(file: string, work: () => Promise<T>) => withFileLock(path.join(vmsDir, file), LOCK_DEADLINE_MS, work);
  let programs: { sshd: string; sftpServer: string } | null = null;
  const tools = () =>
    (programs ??= {
      sshd: findProgram("OpenSSH's sshd", ["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"], "apt-get install openssh-server"),
      sftpServer: findProgram(
        "OpenSSH's sftp-server",
        ["/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server"],
        "apt-get install openssh-server",
      ),
    });

  const providerKey = async () => {
    if (!existsSync(keyFile)) {
      await mkdir(path.dirname(keyFile), { recursive: true, mode: 0o700 });
      await withFileLock(`${keyFile}.lock`, LOCK_DEADLINE_MS, async () => {
        if (!existsSync(keyFile)) await generateKey(keyFile, `ocim-provider@${os.hostname()}`);
      });
    }
    return { privateKey: await readFile(keyFile, "utf8"), publicKey: await readFile(`${keyFile}.pub`, "utf8") };
  };
  const setup = async (): Promise<SshdSetup> => ({ username, providerPublicKey: (await providerKey()).publicKey, sftpServer: tools().sftpServer });

  /** The VM as seen now; an sshd that died (host reboot, crash, kill) is started again. */
  const inspect = async (paths: VmPaths, record: VmRecord): Promise<ServerInfo> => {
    if ((await sshdPid(paths)) === null) {
      opts.log?.info({ event: "provider.local.sshd_restart", vm: record.name }, "provider.local.sshd_restart");
      await writeSshdFiles(paths, record, await setup());
      await startSshd(tools().sshd, paths, record);
    }
    const ready = await portAnswers(record.address, record.sshPort, 2_000);
    return { id: record.id, name: record.name, status: ready ? "ready" : "booting", publicIp: record.address, sshPort: record.sshPort, workDir: path.join(paths.home, "ocim") };
  };

  const allocate = async (name: string): Promise<VmRecord> => {
    const taken = new Set((await allRecords(vmsDir)).map((r) => r.address));
    for (let n = 2; n <= 254; n++) {
      const address = `${opts.addressPrefix}.${n}`;
      if (taken.has(address)) continue;
      // Another Ocim (another DATA_DIR) or any other program may hold the address: skip it.
      const port = await tryBind(address, opts.sshPort);
      if (port !== null) return { id: `${name}.${randomBytes(4).toString("hex")}`, name, address, sshPort: port, createdAt: new Date().toISOString() };
    }
    const hint = opts.sshPort !== 0 ? ` Is something listening on port ${opts.sshPort} of every address (or may this user not bind it)? Set LOCAL_VM_SSH_PORT=0 to give each VM a free port.` : "";
    throw new ProviderError(`No free local VM address in ${opts.addressPrefix}.2-254.${hint}`, false);
  };

  return {
    kind: "local",
    isolated: false,
    async createServer({ name }) {
      checkName(name);
      const paths = vmPaths(vmsDir, name);
      await mkdir(vmsDir, { recursive: true });
      const vmSetup = await setup();
      return lock(`.${name}.vm.lock`, async () => {
        // The name is the VM: creating it again (a retried job) gives the one already there.
        const existing = await readRecord(paths);
        if (existing) return inspect(paths, existing);
        const record = await lock(".addresses.lock", async () => {
          const fresh = await allocate(name);
          await createVmFiles(paths, fresh, vmSetup);
          return fresh;
        });
        opts.log?.info({ event: "provider.local.created", vm: name, address: record.address, port: record.sshPort }, "provider.local.created");
        await startSshd(tools().sshd, paths, record);
        return inspect(paths, record);
      });
    },
    async getServer(id) {
      const name = nameOf(id);
      if (!name) return null;
      const paths = vmPaths(vmsDir, name);
      return lock(`.${name}.vm.lock`, async () => {
        const record = await readRecord(paths);
        return record?.id === id ? inspect(paths, record) : null;
      });
    },
    async findServerByName(name) {
      if (!SERVER_NAME.test(name)) return null;
      const paths = vmPaths(vmsDir, name);
      if (!existsSync(paths.dir)) return null;
      return lock(`.${name}.vm.lock`, async () => {
        const record = await readRecord(paths);
        return record ? inspect(paths, record) : null;
      });
    },
    async deleteServer(id) {
      const name = nameOf(id);
      if (!name || !existsSync(vmPaths(vmsDir, name).dir)) return;
      const paths = vmPaths(vmsDir, name);
      await lock(`.${name}.vm.lock`, async () => {
        const record = await readRecord(paths);
        if (record?.id !== id) return;
        await stopSshd(paths);
        await stopVmProcesses(id);
        await rm(paths.dir, { recursive: true, force: true });
        opts.log?.info({ event: "provider.local.deleted", vm: name }, "provider.local.deleted");
      });
    },
    async sshLogin(): Promise<SshLogin> {
      return { username, privateKey: (await providerKey()).privateKey };
    },
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
