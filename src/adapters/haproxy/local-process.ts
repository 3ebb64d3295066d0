// The haproxy that Ocim runs itself for a `local` balancer, in master-worker mode:
// `haproxy -W -db -f <cfg> -p <pidfile>`. A reload is SIGUSR2 to the master, which re-reads the
// files and starts a new worker that takes over the listening sockets; old workers finish their
// requests (measured on Debian's 2.6: no failed request across 15 reloads under load).
// The process is detached and found again through its pid file, so it keeps serving while Ocim
// restarts, and any Ocim process on the host (holding the balancer's lock) can reload it.
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync, truncateSync, writeFileSync } from "node:fs";
import net from "node:net";
import { AppError } from "../../errors.js";
import { haproxyNotRunnable, trimOutput } from "./check-config.js";
import { stopProcesses } from "../../embedded/processes.js";

export interface LocalRuntimePaths {
  config: string;
  pidFile: string;
  socket: string;
  logFile: string;
  /** ACME HTTP-01 tokens → key authorizations (filled at run time), the crt-list, and the directory of certificate files. */
  acmeMap: string;
  crtList: string;
  certDir: string;
}

const POLL_MS = 50;
// haproxy logs a line per proxy at each reload; 5,000 backends make ~400 kB per reload.
const MAX_LOG_BYTES = 10 * 1024 * 1024;
// sockaddr_un.sun_path is 108 bytes on Linux, including the final NUL.
const MAX_SOCKET_PATH = 107;

export function localRuntimePaths(configPath: string): LocalRuntimePaths {
  const paths = { config: configPath, pidFile: `${configPath}.pid`, socket: `${configPath}.sock`, logFile: `${configPath}.log`,
    acmeMap: `${configPath}.acme.map`, crtList: `${configPath}.crt-list`, certDir: `${configPath}.certs` };
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new AppError("validation", `The config path ${configPath} is too long: haproxy's control socket beside it (${paths.socket}) needs a path under ${MAX_SOCKET_PATH} bytes.`);
  }
  return paths;
}

/** The master's pid when the pid file names a live haproxy running this config, else null. */
export function runningMaster(paths: LocalRuntimePaths): number | null {
  if (!existsSync(paths.pidFile)) return null;
  const pid = Number(readFileSync(paths.pidFile, "utf8").split("\n")[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    process.kill(pid, 0);
  } catch {
    return null;
  }
  // A pid is reused after a process dies: make sure it is still our haproxy.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (!cmdline.some((arg) => arg.endsWith("haproxy")) || !cmdline.includes(paths.config)) return null;
  } catch {
    // no /proc: trust the pid file
  }
  return pid;
}

/** Sends one command to haproxy's stats socket and returns its answer. */
export function socketCommand(socket: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(socket);
    let out = "";
    const timer = setTimeout(() => conn.destroy(new Error(`no answer from ${socket}`)), timeoutMs);
    conn.on("connect", () => conn.write(`${command}\n`));
    conn.on("data", (chunk) => (out += chunk.toString()));
    conn.on("error", (err) => (clearTimeout(timer), reject(err)));
    conn.on("close", () => (clearTimeout(timer), resolve(out)));
  });
}

/** The pid of the worker answering on the stats socket, or null while none answers. */
export async function currentWorker(paths: LocalRuntimePaths): Promise<number | null> {
  try {
    const match = (await socketCommand(paths.socket, "show info")).match(/^Pid: (\d+)$/m);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Starts the master unless it runs, then reloads it; resolves once a worker of the new config answers. */
export async function startOrReload(bin: string, paths: LocalRuntimePaths, timeoutMs: number): Promise<"started" | "reloaded"> {
  const master = runningMaster(paths);
  if (master === null) {
    await start(bin, paths, timeoutMs);
    return "started";
  }
  await reload(master, paths, timeoutMs);
  return "reloaded";
}

async function start(bin: string, paths: LocalRuntimePaths, timeoutMs: number): Promise<void> {
  writeFileSync(paths.logFile, "", { mode: 0o600 });
  // O_APPEND, so truncating the log between reloads never leaves haproxy writing past the end.
  const logFd = openSync(paths.logFile, "a");
  const child = spawn(bin, ["-W", "-db", "-f", paths.config, "-p", paths.pidFile], { detached: true, stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  let exited = false;
  let spawnError: NodeJS.ErrnoException | undefined;
  child.once("exit", () => (exited = true));
  child.once("error", (err) => ((spawnError = err), (exited = true)));
  child.unref();
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (spawnError) throw haproxyNotRunnable(bin, spawnError);
    if (exited) throw new AppError("unavailable", `HAProxy did not start: ${logSince(paths, 0) || "it exited without a message"}`);
    if ((await currentWorker(paths)) !== null) return;
    await sleep(POLL_MS);
  }
  child.kill("SIGKILL");
  throw new AppError("unavailable", `HAProxy did not answer on ${paths.socket} within ${timeoutMs / 1000} s.`);
}

async function reload(master: number, paths: LocalRuntimePaths, timeoutMs: number): Promise<void> {
  const before = await currentWorker(paths);
  if (size(paths.logFile) > MAX_LOG_BYTES) truncateSync(paths.logFile, 0);
  const offset = size(paths.logFile);
  process.kill(master, "SIGUSR2");
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    await sleep(POLL_MS);
    const worker = await currentWorker(paths);
    if (worker !== null && worker !== before) return;
    const log = readFrom(paths.logFile, offset);
    // The master keeps the old worker serving when the new config fails to load.
    if (log.includes("Loading failure")) {
      throw new AppError("unavailable", `HAProxy refused to reload and keeps the previous configuration: ${trimOutput(log, {}) || "see " + paths.logFile}`);
    }
  }
  throw new AppError("unavailable", `HAProxy did not finish reloading within ${timeoutMs / 1000} s; see ${paths.logFile}.`);
}

/** Stops the master and its workers (SIGTERM: immediate; SIGUSR1: after current requests). */
export async function stopLocalHaproxy(paths: LocalRuntimePaths, signal: "SIGTERM" | "SIGUSR1" = "SIGTERM", timeoutMs = 10_000): Promise<void> {
  const master = runningMaster(paths);
  if (master === null) return;
  await stopProcesses([master], { signal, deadlineMs: timeoutMs, stillOurs: () => runningMaster(paths) === master });
}

function logSince(paths: LocalRuntimePaths, offset: number): string {
  return trimOutput(readFrom(paths.logFile, offset), {});
}

function readFrom(file: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const buffer = Buffer.alloc(Math.max(0, fstatSync(fd).size - offset));
    const read = readSync(fd, buffer, 0, buffer.length, offset);
    return buffer.subarray(0, read).toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function size(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
