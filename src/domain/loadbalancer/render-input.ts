// From the database rows of one balancer to the plain data that render-config.ts turns into text.
// Which appservers may receive traffic is decided here: active, running, with a public IP. An
// instance in maintenance passes its name on instead: render-config.ts sends its domains to its page.
import type { Secrets } from "../../crypto.js";
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { allDomains } from "../instances/domains.js";
import { basicAuthFor } from "../instances/secret.js";
import { httpPortOf } from "../appservers/health-gate.js";
import { readSnapshotRouting } from "../appservers/config-snapshot.js";
import type { LbInstance, LbRenderInput } from "./render-config.js";
import { uncoveredDomains } from "../certificates/get-certificates.js";
import { sshTlsPaths } from "../../adapters/haproxy/ssh.js";

const balancerSelect = {
  id: true,
  name: true,
  kind: true,
  host: true,
  sshUser: true,
  sshPort: true,
  configPath: true,
  mapPath: true,
  reloadCommand: true,
  fragmentName: true,
  httpsBind: true,
  hostKeyFingerprint: true,
  configurationVersion: true,
  deployedVersion: true,
} as const;

const instanceSelect = {
  id: true,
  name: true,
  maintenanceSince: true,
  internalLmsDomain: true,
  studioDomain: true,
  previewDomain: true,
  ecommerceDomain: true,
  discoveryDomain: true,
  appsDomain: true,
  externalDomains: true,
  secretKeyEncrypted: true,
  certificate: { select: { certificatePem: true, privateKeyEncrypted: true, domains: true } },
  appServers: {
    where: { isActive: true, status: "running", publicIp: { not: null } },
    select: { id: true, publicIp: true, configSnapshot: true },
    orderBy: { id: "asc" },
  },
} as const;

export interface LbInstanceRow {
  id: number;
  name: string;
  maintenanceSince?: Date | null;
  internalLmsDomain: string;
  studioDomain: string;
  previewDomain: string;
  ecommerceDomain: string;
  discoveryDomain: string;
  appsDomain: string;
  externalDomains: string[];
  secretKeyEncrypted: string;
  appServers: { id: number; publicIp: string | null; configSnapshot: unknown }[];
  certificate?: { certificatePem: string; privateKeyEncrypted: string; domains?: string[] } | null;
}

export type LbBalancerRow = Awaited<ReturnType<typeof readBalancer>>;

async function readBalancer(db: Deps["db"], loadBalancerId: number) {
  const balancer = await db.loadBalancer.findUnique({ where: { id: loadBalancerId }, select: balancerSelect });
  if (!balancer) throw notFound("Load balancer");
  return balancer;
}

/**
 * The balancer and its render input. The version is read before the rows, so the rows are at least
 * as new as the version: a change committed together with its bump is never missed.
 * Archived instances are left out (their domains answer "no site here").
 */
export async function loadRenderInput(deps: Pick<Deps, "db" | "secrets">, loadBalancerId: number) {
  const balancer = await readBalancer(deps.db, loadBalancerId);
  const rows = await deps.db.instance.findMany({
    where: { loadBalancerId, isArchived: false },
    select: instanceSelect,
    orderBy: { id: "asc" },
  });
  // A local balancer serves certificates, an ssh one only with an HTTPS bind (docs/load-balancer.md,
  // HTTPS): without one, an instance that kept its certificate after a move must not be redirected
  // to an HTTPS nobody serves.
  const tls = servesHttps(balancer);
  const input = toRenderInput(deps.secrets, balancer.fragmentName, rows, tls);
  if (tls && balancer.kind === "ssh") input.acmeMap = sshTlsPaths(balancer.configPath).acmeMap;
  return { balancer, input };
}

/** Whether the balancer serves HTTPS, so its instances get certificates. */
export function servesHttps(balancer: { kind: string; httpsBind: string }): boolean {
  return balancer.kind === "local" || balancer.httpsBind !== "";
}

export function toRenderInput(secrets: Secrets, fragmentName: string, rows: LbInstanceRow[], withCertificates = false): LbRenderInput {
  const instances: LbInstance[] = rows.map((row) => {
    const domains = allDomains(row);
    return {
      id: row.id,
      domains,
      healthHost: domains[0]!, // the internal LMS domain, lowercased
      authorization: authorizationFor(secrets, row),
      appServers: row.appServers.map((a) => ({ id: a.id, ip: a.publicIp ?? "", httpPort: httpPortOf(readSnapshotRouting(a.configSnapshot, `appserver ${a.id}`)) })),
      certificatePem: withCertificates && row.certificate?.certificatePem ? certificateAndKey(secrets, row.certificate) : undefined,
      uncoveredDomains: withCertificates && row.certificate?.certificatePem ? uncoveredDomains({ certificatePem: row.certificate.certificatePem, domains: row.certificate.domains ?? domains }, domains) : undefined,
      maintenanceName: row.maintenanceSince ? row.name : undefined,
    };
  });
  return { fragmentName, instances };
}

// Deriving the basic auth (AES-GCM decrypt + two HMACs) would be most of a render's cost: ~7 µs
// per instance, 35 ms for 5,000. It is a pure function of the sealed key, so a worker keeps what it
// derived, per Secrets (i.e. per SECRET_KEY) and instance id, checked against the sealed key.
const authorizations = new WeakMap<Secrets, Map<number, { sealed: string; value: string }>>();
const MAX_CACHED = 100_000;

function authorizationFor(secrets: Secrets, row: { id: number; secretKeyEncrypted: string }): string {
  let cache = authorizations.get(secrets);
  if (!cache) authorizations.set(secrets, (cache = new Map()));
  const hit = cache.get(row.id);
  if (hit && hit.sealed === row.secretKeyEncrypted) return hit.value;
  const auth = basicAuthFor(secrets, row);
  const value = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(row.id, { sealed: row.secretKeyEncrypted, value });
  return value;
}

/** What haproxy reads from one file: the chain, then the private key (decrypted only here, on its way to a 0600 file). */
function certificateAndKey(secrets: Secrets, certificate: { certificatePem: string; privateKeyEncrypted: string }): string {
  const chain = certificate.certificatePem.endsWith("\n") ? certificate.certificatePem : `${certificate.certificatePem}\n`;
  return chain + secrets.decrypt(certificate.privateKeyEncrypted);
}
