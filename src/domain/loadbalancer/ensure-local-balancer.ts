// The single-node default (`npm start`): a `local` balancer whose haproxy runs on this host and
// listens on LB_HTTP_PORT, with its files in LOCAL_LB_DIR (default DATA_DIR/haproxy), made once when
// haproxy is installed. A local balancer that already exists is kept as it is, even with files
// outside that directory: applying it then refuses and says so on its admin page (never moved behind
// the admin's back).
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
  const dir = deps.config.localLbDir;
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
