// Load balancer test helpers: a local balancer row with its files in a temp dir, and an HTTP client
// that talks to haproxy on a fresh connection per request, with any Host header.
import { randomBytes } from "node:crypto";
import http from "node:http";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import type { Prisma } from "../../src/db.js";
import type { Deps } from "../../src/deps.js";
import { waitFor } from "./wait.js";
import { TEST_LB_DIR } from "./deps.js";
import { localRuntimePaths, stopLocalHaproxy } from "../../src/adapters/haproxy/local-process.js";

// Inside LOCAL_LB_DIR, the only place a local balancer may write.
const DIR_PREFIX = `${TEST_LB_DIR}/`;

/** A local balancer row; unless paths are given, its files go to a fresh temp dir under TEST_LB_DIR (see removeLoadBalancerFiles). */
export async function makeLoadBalancer(deps: Pick<Deps, "db">, data: Partial<Prisma.LoadBalancerUncheckedCreateInput> = {}) {
  // Short, so haproxy's control socket path beside the config stays under the 108-byte limit.
  if (!data.configPath) mkdirSync(TEST_LB_DIR, { recursive: true, mode: 0o700 });
  const dir = data.configPath ? "" : mkdtempSync(DIR_PREFIX);
  const suffix = randomBytes(3).toString("hex");
  return deps.db.loadBalancer.create({
    data: {
      name: `LB ${suffix}`,
      kind: "local",
      configPath: path.join(dir, "haproxy.cfg"),
      mapPath: path.join(dir, "domains.map"),
      reloadCommand: "",
      fragmentName: `t-${suffix}`,
      ...data,
    },
  });
}

/** Removes the temp dir makeLoadBalancer made, and nothing else (never a path a test gave, like /etc/haproxy). */
export function removeLoadBalancerFiles(lb: { configPath: string }): void {
  const dir = path.dirname(lb.configPath);
  if (dir.startsWith(DIR_PREFIX) && !dir.slice(DIR_PREFIX.length).includes("/")) rmSync(dir, { recursive: true, force: true });
}

export interface LbReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** GET through the balancer as a browser visiting `host` would (a new connection each time unless given a keep-alive agent). */
export function lbGet(port: number, host: string, opts: { path?: string; headers?: Record<string, string>; agent?: http.Agent } = {}): Promise<LbReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: opts.path ?? "/", headers: { host, ...opts.headers }, agent: opts.agent ?? false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Polls `probe` until it returns true; the deadline is a safety net, not an assertion on speed. */
export async function eventually(probe: () => Promise<boolean> | boolean, what: string, deadlineMs = 20_000): Promise<void> {
  await waitFor(what, async () => (await probe()) || undefined, deadlineMs, 100);
}

/** After a test: stop the haproxy a local balancer started, then remove its temp files. */
export async function disposeLoadBalancer(lb: { configPath: string } | undefined): Promise<void> {
  if (!lb) return;
  await stopLocalHaproxy(localRuntimePaths(lb.configPath));
  removeLoadBalancerFiles(lb);
}
