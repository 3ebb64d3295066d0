// Where `npm start` serves the console, for the links the CLI prints (login-link, demo): a console
// started with PORT=3999 gets links to port 3999 from an `npx ocim login-link` run without PORT,
// instead of links to 3000, where nothing (or another program) answers. PUBLIC_URL, when set, wins.
// The same record says that a live `npm start` owns the data directory (claimDataDir).
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { publicUrlOf, reachableHost, type Config } from "../config.js";
import { liveRecord, recordServer, runningServerPort } from "../embedded/processes.js";

const recordFile = (dataDir: string) => path.join(dataDir, "console.json");

/**
 * Makes this process the one `npm start` on DATA_DIR, before anything under it is touched: a second
 * one would start its own MariaDB on the first one's files (stopping the live one) and repoint the
 * Embedded MySQL row. The claim is console.json naming this process; one whose owner is gone (killed,
 * even with -9) no longer counts. `wx`: of two starts at the same moment, one creates the file.
 */
export async function claimDataDir(config: Pick<Config, "PUBLIC_URL" | "HOST" | "PORT" | "dataDir">): Promise<void> {
  const file = recordFile(config.dataDir);
  for (;;) {
    try {
      return writeFileSync(file, JSON.stringify({ ownerPid: process.pid }) + "\n", { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = liveRecord(file);
    if (owner) {
      const where = owner.port === undefined ? "still starting" : await consoleUrl(config);
      throw new Error(`Ocim is already running on this data directory, ${config.dataDir} (pid ${owner.ownerPid}, ${where}). Stop it first, or set DATA_DIR to another directory.`);
    }
    rmSync(file, { force: true });
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
