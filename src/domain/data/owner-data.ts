// The data Ocim made for one owner (an instance, or the slug of a deleted one whose data was kept),
// as recorded in InstanceDataResource, grouped by the service that holds it; and how to reach that
// service. The rows, not the instance's current choice of services, say what exists where: an
// instance moved to another server still has its databases on the first one.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { createDataAdapter } from "../../adapters/data/factory.js";
import { DataServiceError, type DataResourceKind, type DataServiceAdapter, type DataServiceKind, type InstanceDataPlan } from "../../adapters/data/port.js";
import { dataPrefix, userPrefix } from "./plan.js";

/** Whose data: an existing instance's, or what a deleted instance left behind under its slug. */
export type DataScope = { instanceId: number } | { owner: string };

export interface ServiceRef {
  id: number;
  name: string;
  kind: DataServiceKind;
  /** Where it is (host:port, or the S3 endpoint); never a credential. */
  where: string;
}

export interface RecordedResource {
  id: number;
  owner: string;
  kind: DataResourceKind;
  name: string;
  status: "exists" | "missing" | "error";
  detail: string;
  sizeBytes: number | null;
  checkedAt: Date;
  keptSince: Date | null;
}

export interface ServiceData {
  service: ServiceRef;
  resources: RecordedResource[];
}

const serviceSelect = { id: true, name: true, kind: true, settings: true, credentialsEncrypted: true } as const;
type ServiceRow = Prisma.DataServiceGetPayload<{ select: typeof serviceSelect }>;

export function scopeWhere(scope: DataScope): Prisma.InstanceDataResourceWhereInput {
  return "instanceId" in scope ? { instanceId: scope.instanceId } : { owner: scope.owner, instanceId: null };
}

function whereOf(service: Pick<ServiceRow, "kind" | "settings">): string {
  const s = (service.settings && typeof service.settings === "object" ? service.settings : {}) as Record<string, unknown>;
  if (service.kind === "s3") return typeof s.endpoint === "string" && s.endpoint ? s.endpoint : `AWS S3${typeof s.region === "string" ? ` (${s.region})` : ""}`;
  return `${String(s.host ?? "?")}:${String(s.port ?? (service.kind === "mysql" ? 3306 : 27017))}`;
}

/** The scope's resources by service, services by name, resources in the order kind, name. */
export async function loadOwnerData(deps: Pick<Deps, "db">, scope: DataScope): Promise<(ServiceData & { row: ServiceRow })[]> {
  const rows = await deps.db.instanceDataResource.findMany({
    where: scopeWhere(scope),
    select: { id: true, owner: true, serviceId: true, kind: true, name: true, status: true, detail: true, sizeBytes: true, checkedAt: true, keptSince: true },
    orderBy: [{ kind: "asc" }, { name: "asc" }],
  });
  if (!rows.length) return [];
  const services = await deps.db.dataService.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.serviceId))] } }, select: serviceSelect, orderBy: { name: "asc" } });
  return services.map((row) => ({
    row,
    service: { id: row.id, name: row.name, kind: row.kind, where: whereOf(row) },
    resources: rows.filter((r) => r.serviceId === row.id).map(({ serviceId: _s, sizeBytes, ...r }) => ({ ...r, sizeBytes: sizeBytes === null ? null : Number(sizeBytes) })),
  }));
}

/** The service's adapter, from its settings and its decrypted credentials; a DataServiceError says what is unreadable. */
export function adapterForService(deps: Pick<Deps, "secrets">, service: ServiceRow): DataServiceAdapter {
  let credentials: unknown;
  try {
    credentials = JSON.parse(deps.secrets.decrypt(service.credentialsEncrypted));
  } catch {
    throw new DataServiceError(`The credentials of "${service.name}" cannot be read (stored under another SECRET_KEY?); enter them again in the admin (Data services).`, false);
  }
  return createDataAdapter(service.kind, service.settings, credentials);
}

/**
 * A plan holding exactly the recorded resources (names only, no passwords: inspect and drop need
 * none), for the adapter of `kind`. A MongoDB user lives in its own database, which plan.ts names
 * from the same role: `<userPrefix>_<role>` lives in `<dataPrefix>_<role>`.
 */
export function planOfResources(owner: string, kind: DataServiceKind, resources: Pick<RecordedResource, "kind" | "name">[]): InstanceDataPlan {
  const databases = resources.filter((r) => r.kind === "database").map((r) => ({ name: r.name, role: "" }));
  const users = resources.filter((r) => r.kind === "user");
  const userRole = (name: string) => name.slice(userPrefix(owner).length + 1);
  return {
    owner,
    mysql: kind === "mysql" ? { databases, users: users.map((u) => ({ name: u.name, password: "", role: "", databases: [] })) } : { databases: [], users: [] },
    mongodb: kind === "mongodb"
      ? { databases, users: users.map((u) => ({ name: u.name, password: "", role: userRole(u.name), database: `${dataPrefix(owner)}_${userRole(u.name)}` })) }
      : { databases: [], users: [] },
    storage: { bucket: kind === "s3" ? (resources.find((r) => r.kind === "bucket")?.name ?? "") : "", corsOrigins: [] },
  };
}

/** `work`, or a DataServiceError once `ms` have passed (the call itself is left to its own timeouts). */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DataServiceError(`${what}: no answer within ${ms / 1000} s`, true)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function failureText(err: unknown): string {
  return err instanceof DataServiceError ? err.message : `unexpected failure: ${err instanceof Error ? err.message : String(err)}`;
}
