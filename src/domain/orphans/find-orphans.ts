// Orphan VMs (DESIGN §10): VMs a provider has that the database does not know, or knows as
// terminated. Reported on the Orphans page; removed after ORPHAN_REMOVE_AFTER_HOURS when that is
// set (0: report only). When each was first seen is kept in Redis, so the grace period survives
// restarts and counts from the first sighting. A provider that cannot be listed (its cloud away,
// its account broken) is reported as such, and the others are still listed.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { openstackAccountInUse } from "../../adapters/provider/factory.js";
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

/** A provider whose VMs could not be listed: the others are still reported. */
export interface ProviderFailure {
  providerKind: string;
  /** The provider account it reads, when it has one. */
  account: string | null;
  /** What failed, as a person reads it (provider errors never carry credentials). */
  message: string;
}

export interface OrphanReport {
  orphans: Orphan[];
  failures: ProviderFailure[];
}

/** The providers in use: local outside production, openstack (its account named) when one is configured. */
async function providersInUse(deps: Pick<Deps, "db" | "config">): Promise<{ kind: string; account: string | null }[]> {
  const kinds = deps.config.NODE_ENV === "production" ? [] : [{ kind: "local", account: null }];
  const openstack = await openstackAccountInUse(deps.db);
  return openstack ? [...kinds, { kind: "openstack", account: openstack.name }] : kinds;
}

export async function findOrphans(deps: Deps, ports: ProvisioningPorts, opts: { remove?: boolean } = {}): Promise<OrphanReport> {
  const known = await deps.db.appServer.findMany({ where: { providerServerId: { not: null } }, select: { providerServerId: true, status: true, name: true } });
  const byId = new Map(known.map((k) => [k.providerServerId!, k]));
  const seen = await deps.redis.hgetall(FIRST_SEEN_KEY);
  const now = deps.now();
  const graceMs = deps.config.ORPHAN_REMOVE_AFTER_HOURS * 3_600_000;
  const orphans: Orphan[] = [];
  const failures: ProviderFailure[] = [];
  const stillOrphans = new Set<string>();
  const providers = await providersInUse(deps);
  // Side by side, so an unreachable cloud costs the page one API timeout, not one per provider.
  const clients = providers.map(({ kind }) => ports.provider(kind));
  const listed = await Promise.allSettled(clients.map((client) => client.listServers()));
  for (const [i, { kind, account }] of providers.entries()) {
    const [provider, result] = [clients[i]!, listed[i]!];
    if (result.status === "rejected") {
      failures.push(providerFailure(deps, kind, account, result.reason));
      // Its VMs were not seen, not gone: their first sightings are kept.
      for (const key of Object.keys(seen)) if (key.startsWith(`${kind}:`)) stillOrphans.add(key);
      continue;
    }
    for (const vm of result.value) {
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
  return { orphans, failures };
}

function providerFailure(deps: Pick<Deps, "log">, kind: string, account: string | null, err: unknown): ProviderFailure {
  const message = err instanceof AppError ? err.message : "an unexpected error (see the log)";
  deps.log.warn({ provider: kind, account, err: err instanceof AppError ? undefined : err, reason: message }, "orphans.provider_failed");
  return { providerKind: kind, account, message };
}
