// Where `npm start` serves the console, for the links the CLI prints (login-link, demo): a console
// started with PORT=3999 gets links to port 3999 from an `npx ocim login-link` run without PORT,
// instead of links to 3000, where nothing (or another program) answers. PUBLIC_URL, when set, wins.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { publicUrlOf, reachableHost, type Config } from "../config.js";
import { recordServer, runningServerPort } from "../embedded/processes.js";

const recordFile = (dataDir: string) => path.join(dataDir, "console.json");

/** Says that this process serves the console on `port` (for as long as it lives). */
export function recordConsole(dataDir: string, port: number): void {
  mkdirSync(dataDir, { recursive: true });
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
