// Child processes for the single-node default: started, awaited until they answer, stopped.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import net from "node:net";

export interface Child {
  name: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface ChildOptions {
  /** What asks it to shut down cleanly: SIGINT (PostgreSQL's fast shutdown); mariadbd ignores it and needs SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

export function startChild(name: string, command: string, args: string[], output: (line: string) => void, { stopSignal = "SIGINT" }: ChildOptions = {}): Child {
  // detached: Ctrl-C reaches only us, and we stop the children after our own connections close.
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) output(line);
    });
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    name,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // The whole group: runuser does not pass SIGINT on to the server it started.
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          child.kill(sig);
        }
      };
      signal(stopSignal);
      const timer = setTimeout(() => signal("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Ports for servers Ocim starts (embedded PostgreSQL, Redis, MariaDB, haproxy) come from below
// Linux's default ephemeral range (ip_local_port_range, 32768-60999): a port the kernel hands out
// for listen(0) is one it also hands to outgoing connections, so between choosing it and the server
// binding it, a connection to PostgreSQL or Redis could take it ("Address already in use", seen
// when many processes run at once).
const SERVER_PORTS = { from: 20_000, to: 32_767 };

/** A port nothing listens on now, for a server about to start. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = SERVER_PORTS.from + Math.floor(Math.random() * (SERVER_PORTS.to - SERVER_PORTS.from + 1));
    if (await portFree(port, host)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether nothing listens on host:port yet (a server may take it). */
export async function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, host);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** Resolves once something accepts TCP connections on host:port; rejects if the child exits or the deadline passes. */
export async function waitForPort(child: Child, host: string, port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited with code ${child.process.exitCode}`);
    if (await portOpen(host, port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name} did not answer on ${host}:${port} within ${deadlineMs} ms`);
}

/** Starts a server and resolves once it accepts connections on 127.0.0.1:port (else stops it and throws). */
export async function startListening(
  name: string, command: string, args: string[], output: (line: string) => void, port: number, deadlineMs: number, options: ChildOptions = {},
): Promise<Child> {
  const child = startChild(name, command, args, output, options);
  try {
    await waitForPort(child, "127.0.0.1", port, deadlineMs);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return child;
}

/** Stops a process left behind by an earlier run that was killed (its pid file names it). */
export async function stopStale(pidFile: string, signal: NodeJS.Signals = "SIGINT"): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
  await stopProcesses([pid], { signal, deadlineMs: 15_000 });
}

export interface StopOptions {
  signal?: NodeJS.Signals;
  deadlineMs?: number;
  /** Whether `pid` still names the process meant (not one that reused its pid): checked while waiting. */
  stillOurs?: (pid: number) => boolean | Promise<boolean>;
}

/**
 * Sends `signal` (SIGTERM) to each process, waits until none of them is alive, and SIGKILLs those
 * still there at the deadline. The one stop loop for processes known by pid (embedded servers
 * left by an earlier run, the local haproxy, local VMs' sshd and their sessions' processes).
 */
export async function stopProcesses(pids: number[], { signal = "SIGTERM", deadlineMs = 10_000, stillOurs = () => true }: StopOptions = {}): Promise<void> {
  const send = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // Already gone.
    }
  };
  for (const pid of pids) send(pid, signal);
  const until = Date.now() + deadlineMs;
  const alive = async (list: number[]) =>
    (await Promise.all(list.map(async (p) => (isAlive(p) && (await stillOurs(p)) ? p : null)))).filter((p): p is number => p !== null);
  let left = await alive(pids);
  while (left.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = await alive(left);
  }
  for (const pid of left) send(pid, "SIGKILL");
}

/** Alive and ours to signal (EPERM means another user's process: not a server we could stop). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Alive, whoever it belongs to (`npm start` may run as another user than the CLI). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

// An embedded server is shared by every Ocim process on the same data directory: `npm start`
// records which process started it and its port, and the CLI uses that server instead of starting
// another on the same files (a second `npm start` is refused: claimDataDir). A record whose owner
// has died names an orphan, which the next start stops and replaces (stopStale).
interface ServerRecord {
  ownerPid: number;
  /** When the owner started (processStart), where it can be read: a pid reused after a kill -9 is not the owner. */
  ownerStart?: string;
  port: number;
}

/**
 * When process `pid` started, as an id that no later process with the same pid has: on Linux the
 * boot's id and the start time in clock ticks since boot (field 22 of /proc/<pid>/stat, after the
 * command name in parentheses, which may hold spaces). Null where it cannot be read (no /proc: macOS;
 * another user's process under hidepid), and then a record is trusted on its pid alone.
 */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return ticks && /^\d+$/.test(ticks) ? `${boot}/${ticks}` : null;
  } catch {
    return null;
  }
}

/** This process as records name it: its pid and, where it can be read, its start. */
export function ownRecord(): { ownerPid: number; ownerStart?: string } {
  const start = processStart(process.pid);
  return { ownerPid: process.pid, ...(start ? { ownerStart: start } : {}) };
}

/** Writes `text` to `file` whole: a reader sees the old content or the new one, never a part (a rename over it). */
export function replaceFile(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

export function recordServer(file: string, port: number): void {
  replaceFile(file, JSON.stringify({ ...ownRecord(), port } satisfies ServerRecord) + "\n");
}

/**
 * The record in `file` while its owner is alive (`port` may be missing: a console still starting).
 * A live process with the recorded pid but another start is not the owner: the pid was reused.
 */
export function liveRecord(file: string): { ownerPid: number; port?: number } | null {
  let record: Partial<ServerRecord>;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as Partial<ServerRecord>;
  } catch {
    return null;
  }
  const { ownerPid, ownerStart, port } = record;
  if (!Number.isInteger(ownerPid) || ownerPid! <= 1 || !exists(ownerPid!)) return null;
  const start = typeof ownerStart === "string" ? processStart(ownerPid!) : null;
  if (start !== null && start !== ownerStart) return null;
  return { ownerPid: ownerPid!, ...(Number.isInteger(port) ? { port } : {}) };
}

/** The port of the server recorded in `file`, if its owner is alive and it accepts connections. */
export async function runningServerPort(file: string, host = "127.0.0.1"): Promise<number | null> {
  const port = liveRecord(file)?.port;
  if (port === undefined) return null;
  return (await portOpen(host, port)) ? port : null;
}
