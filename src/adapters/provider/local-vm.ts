// The files of one local "VM" under DATA_DIR/vms/<name>/: its record (vm.json, the proof it
// exists), its sshd's configuration and host key, the login script and the home directory.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { shellQuote } from "../ssh/quote.js";
import { ProviderError } from "./port.js";

const run = promisify(execFile);

export interface VmRecord {
  id: string;
  name: string;
  address: string;
  sshPort: number;
  createdAt: string;
}

export interface VmPaths {
  dir: string;
  record: string;
  config: string;
  hostKey: string;
  authorizedKeys: string;
  enter: string;
  pid: string;
  log: string;
  home: string;
  bin: string;
}

export interface SshdSetup {
  username: string;
  providerPublicKey: string;
  sftpServer: string;
}

export function vmPaths(vmsDir: string, name: string): VmPaths {
  const dir = path.join(vmsDir, name);
  return {
    dir,
    record: path.join(dir, "vm.json"),
    config: path.join(dir, "sshd_config"),
    hostKey: path.join(dir, "ssh_host_ed25519_key"),
    authorizedKeys: path.join(dir, "authorized_keys"),
    enter: path.join(dir, "enter.sh"),
    pid: path.join(dir, "sshd.pid"),
    log: path.join(dir, "sshd.log"),
    home: path.join(dir, "home"),
    bin: path.join(dir, "bin"),
  };
}

export async function readRecord(paths: VmPaths): Promise<VmRecord | null> {
  try {
    return JSON.parse(await readFile(paths.record, "utf8")) as VmRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ProviderError(`The local VM record ${paths.record} cannot be read: ${(err as Error).message}`, false);
  }
}

/** Creates the VM's files; the record is written last (atomically), so a half-made VM does not exist. */
export async function createVmFiles(paths: VmPaths, record: VmRecord, setup: SshdSetup): Promise<void> {
  await mkdir(paths.home, { recursive: true, mode: 0o755 });
  if (!existsSync(paths.hostKey)) await generateKey(paths.hostKey, `ocim-local-vm-${record.name}`);
  await writeFile(paths.authorizedKeys, `${setup.providerPublicKey.trim()}\n`, { mode: 0o600 });
  await writeSshdFiles(paths, record, setup);
  await writeFile(`${paths.record}.tmp`, JSON.stringify(record, null, 2));
  await rename(`${paths.record}.tmp`, paths.record);
}

/** Rewritten at every start, so a VM made by an older Ocim gets the current configuration. */
export async function writeSshdFiles(paths: VmPaths, record: VmRecord, setup: SshdSetup): Promise<void> {
  await writeFile(paths.enter, enterScript(paths, record), { mode: 0o755 });
  await writeFile(paths.config, sshdConfig(paths, record, setup));
}

function sshdConfig(paths: VmPaths, record: VmRecord, setup: SshdSetup): string {
  for (const p of [paths.dir, setup.sftpServer]) {
    if (/["\n%]/.test(p)) throw new ProviderError(`The path ${JSON.stringify(p)} cannot be used in an sshd configuration (no ", % or newline).`, false);
  }
  return `# sshd of the local VM ${record.name}, written by Ocim at each start.
Port ${record.sshPort}
ListenAddress ${record.address}
HostKey "${paths.hostKey}"
PidFile "${paths.pid}"
# Ocim's key for its own user; the organization's members (accounts made by the SSH access sync)
# log in with the keys in their own ~/.ssh/authorized_keys, as on a real VM.
AuthorizedKeysFile "${paths.authorizedKeys}" .ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The VM's files live under DATA_DIR, which belongs to whoever runs Ocim.
StrictModes no
Subsystem sftp ${setup.sftpServer}
AllowTcpForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
# Ocim's sessions (commands, shells, SFTP) start in the VM's home: see enter.sh.
Match User ${setup.username}
  ForceCommand ${shellQuote(paths.enter)}
`;
}

/**
 * The VM's "login": sessions start in the VM's home with HOME pointing there (so a playbook writes
 * only below it) and a fresh environment like a new VM's (the host user's ~/.bashrc has already
 * run by then, and its PATH must not leak in). OCIM_LOCAL_VM marks every process a session
 * starts, so deleting the VM can stop what it left running. The VM's own bin/ comes first on PATH:
 * a stand-in for a real VM's program goes there (a cloud-init that reports an error, in the tests),
 * seen by this VM's sessions only.
 */
function enterScript(paths: VmPaths, record: VmRecord): string {
  const env = [
    `HOME=${shellQuote(paths.home)}`,
    `OCIM_LOCAL_VM=${shellQuote(record.id)}`,
    `OCIM_VM_ADDRESS=${shellQuote(record.address)}`,
    `PATH=${shellQuote(`${paths.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`)}`,
    "LANG=C.UTF-8",
    'USER="$USER" LOGNAME="$LOGNAME" SHELL="$SHELL"',
    'SSH_CLIENT="$SSH_CLIENT" SSH_CONNECTION="$SSH_CONNECTION"',
  ].join(" \\\n  ");
  return `#!/bin/sh
# Login of the local VM ${record.name}, written by Ocim (ForceCommand of its sshd).
cd ${shellQuote(paths.home)} || exit 1
if [ -z "\${SSH_ORIGINAL_COMMAND:-}" ]; then
  exec env -i ${env} \\\n    "\${SHELL:-/bin/sh}" -l
fi
exec env -i ${env} \\\n  SSH_ORIGINAL_COMMAND="$SSH_ORIGINAL_COMMAND" \\\n  "\${SHELL:-/bin/sh}" -c "$SSH_ORIGINAL_COMMAND"
`;
}

/** An ed25519 key pair in OpenSSH format: file (private, 0600) and file.pub. */
export async function generateKey(file: string, comment: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  // ssh-keygen asks before overwriting; a leftover of a crashed run must not make it wait.
  await Promise.all([rm(tmp, { force: true }), rm(`${tmp}.pub`, { force: true })]);
  try {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", tmp], { timeout: 30_000 });
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new ProviderError(missing ? "ssh-keygen is missing: install OpenSSH (apt-get install openssh-client)." : `ssh-keygen failed: ${(err as Error).message}`, false);
  }
  // Public half first: a private key on disk means the pair is complete.
  await rename(`${tmp}.pub`, `${file}.pub`);
  await rename(tmp, file);
}
