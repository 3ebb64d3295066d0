// Whether an instance may use the data services it is given: each must exist and be of its kind,
// and an instance whose data already exists on one service of a kind cannot be pointed at another
// (Ocim does not move data; the new service would start empty). Nothing there yet: any choice.
import type { Prisma } from "../../db.js";
import type { FieldErrors } from "../../errors.js";
import { KIND_LABELS, SERVICE_COLUMNS } from "./instance-services.js";

type Choice = Record<(typeof SERVICE_COLUMNS)[number]["column"], number | null>;

export async function dataServiceConflicts(tx: Prisma.TransactionClient, data: Choice, instanceId: number | null): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  for (const { kind, column } of SERVICE_COLUMNS) {
    const chosen = data[column];
    if (chosen !== null) {
      const service = await tx.dataService.findUnique({ where: { id: chosen }, select: { kind: true } });
      if (!service) errors[column] = "This data service does not exist (any more); choose another.";
      else if (service.kind !== kind) errors[column] = `This is not a ${KIND_LABELS[kind]} service; choose one of that kind.`;
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
