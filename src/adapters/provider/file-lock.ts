// A lock between the processes sharing one DATA_DIR (web, worker, several workers): an exclusive
// file holding the owner's pid. A lock left by a process that died is taken over.
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { ProviderError } from "./port.js";

const STALE_EMPTY_MS = 10_000;

export async function withFileLock<T>(file: string, deadlineMs: number, work: () => Promise<T>): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (await ownerIsGone(file)) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > until) throw new ProviderError(`Timed out waiting for the lock ${file} (held by another Ocim process).`, true);
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await work();
  } finally {
    await rm(file, { force: true });
  }
}

async function ownerIsGone(file: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(file, "utf8")).trim());
    // An empty file: its owner is between creating and writing it, or died right there.
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - (await stat(file)).mtimeMs > STALE_EMPTY_MS;
    return !pidAlive(pid);
  } catch {
    return false; // gone already: the next attempt will tell
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
