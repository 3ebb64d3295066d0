// A closed-loop load generator: C clients, each doing N calls one after the other, and the CPU time
// of the processes it measures.
import { readdirSync, readFileSync } from "node:fs";

export interface Stats {
  calls: number;
  perSecond: number;
  p50: number;
  p95: number;
  errors: number;
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

/** Runs `call(client, i)` from `clients` concurrent loops of `each` calls; a rejected call counts as an error. */
export async function measure(clients: number, each: number, call: (client: number, i: number) => Promise<void>): Promise<Stats> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < each; i++) {
        const t0 = performance.now();
        try {
          await call(client, i);
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { calls: latencies.length, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95), errors };
}

// CPU time of other processes on this machine, from /proc (Linux): where a request's CPU goes.
const TICK_MS = 10; // USER_HZ is 100 on Linux

function statFields(pid: string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" "); // [0] is field 3 (state)
  } catch {
    return null; // exited meanwhile
  }
}

/**
 * CPU milliseconds used so far by a process and all its descendants: the live ones, plus the
 * children they have reaped (a PostgreSQL backend that exited is counted in the postmaster's
 * cutime). By parent, not by process group: the postmaster puts each backend in a session of its own.
 */
export function treeCpuMs(rootPid: number): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (f) procs.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
  }
  const inTree = (pid: number): boolean => pid === rootPid || (pid > 1 && procs.has(pid) && inTree(procs.get(pid)!.ppid));
  let ticks = 0;
  for (const [pid, p] of procs) if (inTree(pid)) ticks += p.ticks;
  return ticks * TICK_MS;
}

/** This process's CPU milliseconds so far. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
