// Whether an instance may use the data services it is given: each must exist and be of its kind,
// and an instance whose data already exists on one service of a kind cannot be pointed at another
// (Ocim does not move data; the new service would start empty). Nothing there yet: any choice.
// A service at a loopback address (the embedded MariaDB, say) serves only VMs on this host: an
// instance whose VMs come from a cloud cannot use it.
import type { Prisma } from "../../db.js";
import type { FieldErrors } from "../../errors.js";
import type { ProviderKind } from "../../generated/prisma/enums.ts";
import { KIND_LABELS, SERVICE_COLUMNS, serviceLocation, type ServiceRow } from "./instance-services.js";

type Choice = Record<(typeof SERVICE_COLUMNS)[number]["column"], number | null> & { providerKind: ProviderKind };

/** The host a service's clients connect to: settings.host, or the S3 endpoint's (none: AWS itself). */
function serviceHost(service: ServiceRow): string | null {
  const s = (service.settings ?? {}) as Record<string, unknown>;
  if (service.kind !== "s3") return typeof s.host === "string" ? s.host : null;
  try {
    return typeof s.endpoint === "string" ? new URL(s.endpoint).hostname : null;
  } catch {
    return null;
  }
}

/** 127.0.0.0/8, ::1, localhost and its subdomains (RFC 6761 §6.3), 0.0.0.0: this host only. */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  return /^127\./.test(h) || h === "::1" || h === "0.0.0.0" || h === "localhost" || h.endsWith(".localhost") || /^::ffff:127\./.test(h);
}

/** Why VMs of `providerKind` cannot reach `service`, or "" when they can. */
function unreachableFrom(providerKind: ProviderKind, service: ServiceRow): string {
  if (providerKind === "local" || !isLoopback(serviceHost(service) ?? "")) return "";
  return `${service.name} is at ${serviceLocation(service)}, an address of this host only: the ${providerKind} VMs of this instance cannot reach it there.`;
}

/**
 * At launch, for an instance saved before the admin refused it: the first of its data services its
 * VMs cannot reach, said before any VM is made (the playbook would fail on it hours later).
 */
export async function unreachableServiceProblem(tx: Prisma.TransactionClient, instance: Choice): Promise<string> {
  const ids = SERVICE_COLUMNS.map(({ column }) => instance[column]).filter((id): id is number => id !== null);
  if (instance.providerKind === "local" || !ids.length) return "";
  const services = await tx.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, kind: true, settings: true }, orderBy: { id: "asc" } });
  const problem = services.map((service) => unreachableFrom(instance.providerKind, service)).find(Boolean);
  return problem ? `${problem} Choose another in the admin (Edit in admin) before launching.` : "";
}

export async function dataServiceConflicts(tx: Prisma.TransactionClient, data: Choice, instanceId: number | null): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  for (const { kind, column } of SERVICE_COLUMNS) {
    const chosen = data[column];
    if (chosen !== null) {
      const service = await tx.dataService.findUnique({ where: { id: chosen }, select: { id: true, name: true, kind: true, settings: true } });
      if (!service) errors[column] = "This data service does not exist (any more); choose another.";
      else if (service.kind !== kind) errors[column] = `This is not a ${KIND_LABELS[kind]} service; choose one of that kind.`;
      else if (unreachableFrom(data.providerKind, service)) {
        errors[column] = `${unreachableFrom(data.providerKind, service)} Choose a ${KIND_LABELS[kind]} service at an address the VMs reach (add one under Data services), or none.`;
      }
      if (errors[column]) continue;
    }
    if (instanceId === null) continue;
    const held = await tx.instanceDataResource.findMany({
      where: { instanceId, status: "exists", service: { kind }, ...(chosen === null ? {} : { serviceId: { not: chosen } }) },
      select: { name: true, service: { select: { name: true } } }, orderBy: { name: "asc" },
    });
    if (held.length) {
      const where = [...new Set(held.map((h) => h.service.name))].join(", ");
      errors[column] = `This instance's ${KIND_LABELS[kind]} data is on ${where} (${held.map((h) => h.name).slice(0, 5).join(", ")}${held.length > 5 ? ", …" : ""}). Moving data between services is not supported: keep ${where}.`;
    }
  }
  return errors;
}
