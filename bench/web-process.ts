// The real web role (src/bin/web.ts) in its own process, and a logged-in session cookie for it:
// what the benches that measure a page or a socket talk to.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Deps } from "../src/deps.js";
import { createLoginLink } from "../src/domain/auth/login-links.js";
import { freePort } from "../src/embedded/processes.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * `npm run web`'s own node arguments (package.json: `node <args>`), so a bench runs the web role as
 * production does, in one process without npm's; `extra` goes before them (a profiler's flags).
 */
export function webRoleArgs(extra: string[] = []): string[] {
  const [program, ...args] = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).scripts.web as string).split(" ");
  if (program !== "node") throw new Error(`package.json's "web" script should start with node, not ${program}`);
  return [...extra, ...args.map((a) => (a.endsWith(".ts") ? path.join(root, a) : a))];
}

export async function startWebProcess(databaseUrl: string, redisUrl: string, SECRET_KEY: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, webRoleArgs(), {
    cwd: root, stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, NODE_ENV: "development", LOG_LEVEL: "warn", DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SECRET_KEY, PORT: String(port), HOST: "127.0.0.1" },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the web process exited with code ${child.exitCode}`);
    if (await fetch(`${url}/login`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, stop: async () => void (child.kill("SIGTERM"), await once(child, "exit")) };
}

export async function loginCookie(deps: Deps, webUrl: string): Promise<string> {
  const token = await createLoginLink(deps, "bench");
  const res = await fetch(`${webUrl}/login/${token}`, { redirect: "manual" });
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).find((c) => c?.startsWith("ocim.sid="));
  if (!cookie) throw new Error(`login failed: ${res.status}`);
  return cookie;
}
