// Where `npm start` serves the console, for the links the CLI prints (login-link, demo): a console
// started with PORT=3999 gets links to port 3999 from an `npx ocim login-link` run without PORT,
// instead of links to 3000, where nothing (or another program) answers. PUBLIC_URL, when set, wins.
// The same record says that a live `npm start` owns the data directory (claimDataDir).
import { linkSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { publicUrlOf, reachableHost, type Config } from "../config.js";
import { liveRecord, ownRecord, recordServer, runningServerPort } from "../embedded/processes.js";

const recordFile = (dataDir: string) => path.join(dataDir, "console.json");

/**
 * Makes this process the one `npm start` on DATA_DIR, before anything under it is touched: a second
 * one would start its own MariaDB on the first one's files (stopping the live one) and repoint the
 * Embedded MySQL row. The claim is console.json naming this process by its pid and start
 * (processStart): one whose owner is gone (killed, even with -9, its pid maybe reused since) no
 * longer counts. Atomic both ways: the record appears whole (a link to a file already written), so
 * of two starts at the same moment one creates it; and a stale record is replaced only under
 * console.json.lock (takeStaleRecord), so two starts over the same stale record cannot both win.
 */
export async function claimDataDir(config: Pick<Config, "PUBLIC_URL" | "HOST" | "PORT" | "dataDir">): Promise<void> {
  const file = recordFile(config.dataDir);
  const mine = `${file}.${process.pid}.tmp`;
  // A new file: one left by a start killed here with the same pid may still be the record itself.
  rmSync(mine, { force: true });
  writeFileSync(mine, JSON.stringify(ownRecord()) + "\n", { flag: "wx" });
  try {
    for (;;) {
      if (linkOnce(mine, file)) return;
      const owner = liveRecord(file);
      if (owner) {
        const where = owner.port === undefined ? "still starting" : await consoleUrl(config);
        throw new Error(`Ocim is already running on this data directory, ${config.dataDir} (pid ${owner.ownerPid}, ${where}). Stop it first, or set DATA_DIR to another directory. ` +
          `If no Ocim runs there (pid ${owner.ownerPid} is another program now), delete ${file} and start again.`);
      }
      if (takeStaleRecord(file, mine)) return;
      await new Promise((r) => setTimeout(r, 20)); // another start holds the lock for a moment: look again
    }
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Creates `file` as a link to `from` (whole at once); false when `file` exists. */
function linkOnce(from: string, file: string): boolean {
  try {
    linkSync(from, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return false;
  }
}

/**
 * Replaces the stale record in `file` with `mine`, holding `file`.lock (made the same way) so that
 * no other start removes the record this one has just written. False when the lock is taken, the
 * record has come alive meanwhile, or another start created one after the removal. A lock whose
 * holder died (killed within those few milliseconds) is not taken over: the message says to delete it.
 */
function takeStaleRecord(file: string, mine: string): boolean {
  const lock = `${file}.lock`;
  if (!linkOnce(mine, lock)) {
    const holder = liveRecord(lock);
    if (!holder) throw new Error(`${lock} is left by an Ocim start that was stopped while taking the data directory over; delete it and start again.`);
    return false;
  }
  try {
    if (liveRecord(file)) return false;
    rmSync(file, { force: true });
    return linkOnce(mine, file);
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Gives DATA_DIR up (a clean stop), if this process still holds it. */
export function releaseDataDir(dataDir: string): void {
  if (liveRecord(recordFile(dataDir))?.ownerPid === process.pid) rmSync(recordFile(dataDir), { force: true });
}

/** Says that this process serves the console on `port` (for as long as it lives). */
export function recordConsole(dataDir: string, port: number): void {
  recordServer(recordFile(dataDir), port);
}

/** The console's URL: PUBLIC_URL, else the running `npm start`'s port under DATA_DIR, else HOST and PORT. */
export async function consoleUrl(config: Pick<Config, "PUBLIC_URL" | "HOST" | "PORT" | "dataDir">): Promise<string> {
  if (config.PUBLIC_URL) return publicUrlOf({ config });
  const port = await runningServerPort(recordFile(config.dataDir), reachableHost(config.HOST));
  return publicUrlOf({ config: { ...config, PORT: port ?? config.PORT } });
}

/** Whether a console answers at `url` now (any HTTP answer; 2 s at most). */
export async function consoleAnswers(url: string): Promise<boolean> {
  return fetch(url, { redirect: "manual", signal: AbortSignal.timeout(2000) }).then((res) => (void res.body?.cancel(), true), () => false);
}
