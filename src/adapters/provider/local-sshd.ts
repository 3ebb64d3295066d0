// The processes of a local VM: its sshd (started detached, so it outlives the Node process that
// started it) and whatever its sessions left running (found by the OCIM_LOCAL_VM marker).
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { stopProcesses } from "../../embedded/processes.js";
import type { VmPaths, VmRecord } from "./local-vm.js";
import { ProviderError } from "./port.js";
import { portAnswers } from "./tcp.js";

const START_DEADLINE_MS = 10_000;
const STOP_DEADLINE_MS = 5_000;

/** The first of the usual places a program is installed, or a clear error saying what to install. */
export function findProgram(what: string, candidates: string[], install: string): string {
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new ProviderError(`The local provider needs ${what} (${candidates.join(" or ")}): ${install}.`, false);
  return found;
}

/** The pid of this VM's running sshd, or null. Checks the command line, so a reused pid is not taken for it. */
export async function sshdPid(paths: VmPaths): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(paths.pid, "utf8")).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.includes(paths.config) ? pid : null;
}

/**
 * Starts sshd in the foreground of a detached process and waits until its port answers and its pid
 * file names it. When the port is still held, it tries again until the deadline: a connection
 * child that an sshd forked just before it was killed holds the listening socket until it closes
 * its copy (seen in CI, a probe's connection arriving as the test killed the sshd).
 */
export async function startSshd(sshd: string, paths: VmPaths, record: VmRecord): Promise<void> {
  try {
    // sshd's privilege separation directory; Debian creates it only in its service unit.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  } catch {
    // Not root: sshd then runs without privilege separation and does not need it.
  }
  const until = Date.now() + START_DEADLINE_MS;
  for (;;) {
    // This start's own lines: the log also holds earlier starts' (and their connections') lines.
    const from = existsSync(paths.log) ? statSync(paths.log).size : 0;
    if (await runSshd(sshd, paths, record, until)) return;
    const lines = (await readFile(paths.log).catch(() => Buffer.alloc(0))).subarray(from).toString("utf8").trim();
    const portHeld = /Address already in use/.test(lines);
    if (portHeld && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const why = lines.split("\n").slice(-3).join(" / ");
    throw new ProviderError(`The sshd of local VM ${record.name} did not start on ${record.address}:${record.sshPort}: ${why || "no output"}.`, portHeld);
  }
}

/** One sshd process: true once it serves, false when it exited or the deadline passed (it is then killed). */
async function runSshd(sshd: string, paths: VmPaths, record: VmRecord, until: number): Promise<boolean> {
  const out = openSync(paths.log, "a");
  const child = spawn(sshd, ["-D", "-e", "-f", paths.config], { detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  child.unref();
  let exited: number | null = null;
  child.once("exit", (code) => (exited = code ?? -1));
  child.once("error", () => (exited = -1));
  while (Date.now() < until) {
    if (exited !== null) return false;
    // sshd listens before it writes its pid file: until the file names it, another look at this
    // VM would take the sshd for dead and start a second one (seen as a flaky test).
    if ((await portAnswers(record.address, record.sshPort, 500)) && (await sshdPid(paths)) === child.pid) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited === null) {
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
  }
  return false;
}

export async function stopSshd(paths: VmPaths): Promise<void> {
  const pid = await sshdPid(paths);
  if (pid === null) return;
  await stopProcesses([pid], { deadlineMs: STOP_DEADLINE_MS, stillOurs: async (p) => (await sshdPid(paths)) === p });
}

/** Stops every process a session of this VM left running (a detached playbook, the demo server…). */
export async function stopVmProcesses(vmId: string): Promise<void> {
  const marker = `OCIM_LOCAL_VM=${vmId}\0`;
  const pids = await markedPids(marker);
  if (pids.length) await stopProcesses(pids, { deadlineMs: STOP_DEADLINE_MS, stillOurs: async (pid) => (await environ(pid)).includes(marker) });
}

async function markedPids(marker: string): Promise<number[]> {
  const entries = await readdir("/proc").catch(() => [] as string[]);
  const pids: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = await environ(pid);
    if (env.startsWith(marker) || env.includes(`\0${marker}`)) pids.push(pid);
  }
  return pids;
}

function environ(pid: number): Promise<string> {
  return readFile(`/proc/${pid}/environ`, "latin1").catch(() => "");
}
