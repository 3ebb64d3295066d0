// The data services an instance uses now, each with its adapter and the instance's plan, and the
// record of what a service said about the instance's resources (InstanceDataResource rows).
// Shared by the prepare-data step (ensure) and the instance page's "Check now" (inspect).
import type { Deps } from "../../deps.js";
import type { DataServiceKind as Kind } from "../../generated/prisma/enums.ts";
import { createDataAdapter } from "../../adapters/data/factory.js";
import { DataServiceError, type DataServiceAdapter, type ResourceState } from "../../adapters/data/port.js";
import { SITE_ROUTE_SELECT } from "../loadbalancer/site-url.js";
import { bucketOrigins, instanceDataPlan, ORIGIN_DOMAINS_SELECT, type InstanceDataPlan } from "./plan.js";

export const KIND_LABELS: Record<Kind, string> = { mysql: "MySQL", mongodb: "MongoDB", s3: "Storage" };
/** The instance's column per kind, in the order the page and the step go through them. */
export const SERVICE_COLUMNS = [
  { kind: "mysql", column: "mysqlServiceId" },
  { kind: "mongodb", column: "mongodbServiceId" },
  { kind: "s3", column: "storageServiceId" },
] as const satisfies readonly { kind: Kind; column: string }[];

export interface ServiceRow {
  id: number;
  name: string;
  kind: Kind;
  settings: unknown;
}

/** Where a service is, for log lines and the page: host:port, or the endpoint (never a credential). */
export function serviceLocation(service: ServiceRow): string {
  const s = (service.settings ?? {}) as Record<string, unknown>;
  if (service.kind === "s3") return typeof s.endpoint === "string" ? s.endpoint : `AWS S3 (${String(s.region ?? "us-east-1")})`;
  if (typeof s.host === "string") return s.port ? `${s.host}:${String(s.port)}` : s.host;
  return service.name;
}

/** Builds a service's adapter with its decrypted credentials; a row that does not decrypt or parse is a refusal. */
export function adapterFor(deps: Pick<Deps, "secrets">, service: ServiceRow & { credentialsEncrypted: string }): DataServiceAdapter {
  let credentials: unknown = {};
  if (service.credentialsEncrypted) {
    try {
      credentials = JSON.parse(deps.secrets.decrypt(service.credentialsEncrypted));
    } catch {
      throw new DataServiceError(`${KIND_LABELS[service.kind]} ${service.name}: its stored credentials cannot be read (was SECRET_KEY changed?). Enter them again in the admin area.`, false);
    }
  }
  return createDataAdapter(service.kind, service.settings, credentials);
}

export interface UsedService {
  service: ServiceRow & { credentialsEncrypted: string };
  plan: InstanceDataPlan;
}

/**
 * The services the instance uses NOW (its columns, not an appserver's frozen snapshot: the data
 * belongs to the instance, and every appserver of it must reach the same), with the instance's plan.
 */
export async function usedServices(deps: Pick<Deps, "db" | "secrets" | "config">, instanceId: number): Promise<{ slug: string; services: UsedService[] }> {
  const instance = await deps.db.instance.findUniqueOrThrow({
    where: { id: instanceId },
    select: { slug: true, secretKeyEncrypted: true, ...ORIGIN_DOMAINS_SELECT, ...SITE_ROUTE_SELECT, mysqlService: true, mongodbService: true, storageService: true },
  });
  const rows = [instance.mysqlService, instance.mongodbService, instance.storageService].filter((s) => s !== null);
  if (!rows.length) return { slug: instance.slug, services: [] };
  const plan = instanceDataPlan(deps.secrets, instance, bucketOrigins(deps.config, instance, instance));
  return { slug: instance.slug, services: rows.map((service) => ({ service, plan })) };
}

/** "7 databases and 6 users ready" for what ensure reported. */
export function describeReady(states: ResourceState[]): string {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  const parts = [...counts].map(([kind, n]) => `${n} ${kind}${n === 1 ? "" : "s"}`);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : (parts[0] ?? "nothing");
  return `${list} ready`;
}

/** Every wait has a deadline (STYLE 7): a silent server becomes a transient DataServiceError. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DataServiceError(`no answer within ${ms / 1000} s`, true)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
