// Orphan VMs (DESIGN §10): VMs a provider has that the database does not know, or knows as
// terminated. Reported on the Orphans page; removed after ORPHAN_REMOVE_AFTER_HOURS when that is
// set (0: report only). When each was first seen is kept in Redis, so the grace period survives
// restarts and counts from the first sighting.
import type { Deps } from "../../deps.js";
import type { ProvisioningPorts } from "../provisioning/ports.js";

export const FIRST_SEEN_KEY = "ocim:orphans:first-seen";

export interface Orphan {
  providerKind: string;
  id: string;
  name: string;
  firstSeen: Date;
  /** Why it is an orphan, as a person reads it. */
  reason: string;
  removed?: boolean;
}

/** The providers in use: local outside production, openstack when an account is configured. */
async function providerKinds(deps: Pick<Deps, "db" | "config">): Promise<string[]> {
  const kinds = deps.config.NODE_ENV === "production" ? [] : ["local"];
  if (await deps.db.providerAccount.count({ where: { kind: "openstack" } })) kinds.push("openstack");
  return kinds;
}

export async function findOrphans(deps: Deps, ports: ProvisioningPorts, opts: { remove?: boolean } = {}): Promise<Orphan[]> {
  const known = await deps.db.appServer.findMany({ where: { providerServerId: { not: null } }, select: { providerServerId: true, status: true, name: true } });
  const byId = new Map(known.map((k) => [k.providerServerId!, k]));
  const seen = await deps.redis.hgetall(FIRST_SEEN_KEY);
  const now = deps.now();
  const graceMs = deps.config.ORPHAN_REMOVE_AFTER_HOURS * 3_600_000;
  const orphans: Orphan[] = [];
  const stillOrphans = new Set<string>();
  for (const kind of await providerKinds(deps)) {
    const provider = ports.provider(kind);
    for (const vm of await provider.listServers()) {
      const row = byId.get(vm.id);
      if (row && row.status !== "terminated") continue;
      const key = `${kind}:${vm.id}`;
      stillOrphans.add(key);
      if (!seen[key]) await deps.redis.hset(FIRST_SEEN_KEY, key, now.toISOString());
      const firstSeen = new Date(seen[key] ?? now.toISOString());
      const orphan: Orphan = { providerKind: kind, id: vm.id, name: vm.name, firstSeen, reason: row ? `${row.name} is terminated` : "no appserver has this VM" };
      if (opts.remove && graceMs > 0 && now.getTime() - firstSeen.getTime() >= graceMs) {
        await provider.deleteServer(vm.id);
        await deps.redis.hdel(FIRST_SEEN_KEY, key);
        orphan.removed = true;
        deps.log.info({ provider: kind, vm: vm.name }, "orphans.removed");
      }
      orphans.push(orphan);
    }
  }
  // Forget VMs that are gone or known again.
  const stale = Object.keys(seen).filter((k) => !stillOrphans.has(k));
  if (stale.length) await deps.redis.hdel(FIRST_SEEN_KEY, ...stale);
  return orphans;
}
