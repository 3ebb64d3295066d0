// The single-node default (`npm start`): a `local` balancer whose haproxy runs on this host and
// listens on LB_HTTP_PORT, with its files under DATA_DIR, made once when haproxy is installed.
import path from "node:path";
import type { Deps } from "../../deps.js";
import { resolveHaproxyBin } from "../../adapters/haproxy/check-config.js";

export const DEFAULT_BALANCER_NAME = "local";

/** Returns the default local balancer, creating it if needed; null when haproxy is not installed. */
export async function ensureLocalBalancer(deps: Pick<Deps, "db" | "config">) {
  try {
    resolveHaproxyBin(deps.config.HAPROXY_BIN);
  } catch {
    return null;
  }
  const existing = await deps.db.loadBalancer.findFirst({ where: { kind: "local" }, orderBy: { id: "asc" } });
  if (existing) return existing;
  const dir = path.join(deps.config.dataDir, "haproxy");
  return deps.db.loadBalancer.upsert({
    where: { name: DEFAULT_BALANCER_NAME },
    update: {},
    create: {
      name: DEFAULT_BALANCER_NAME,
      kind: "local",
      configPath: path.join(dir, "haproxy.cfg"),
      mapPath: path.join(dir, "domains.map"),
      reloadCommand: "",
      fragmentName: "ocim",
    },
  });
}
