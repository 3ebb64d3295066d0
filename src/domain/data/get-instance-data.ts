// The instance page's "Data" panel: per kind, the service the instance uses (name, where) and what
// Ocim last saw of each of its resources there, with when. Names, statuses and sizes only: never a
// credential (operators see this panel too). Read with the instance page's other panels
// (get-instance-panels.ts).
import type { Prisma } from "../../generated/prisma/client.ts";
import type { DataServiceKind } from "../../generated/prisma/enums.ts";
import { KIND_LABELS, SERVICE_COLUMNS, serviceLocation } from "./instance-services.js";

export interface DataPanelResource {
  kind: string;
  name: string;
  status: "exists" | "missing" | "error";
  detail: string;
  size: string | null;
  checkedAt: Date;
}

export interface DataPanelService {
  kind: DataServiceKind;
  label: string;
  service: { name: string; location: string } | null;
  resources: DataPanelResource[];
  lastChecked: Date | null;
}

/** "1.5 MB": the size a person reads; exact bytes are in the row. */
export function formatBytes(bytes: bigint | null): string | null {
  if (bytes === null) return null;
  const n = Number(bytes);
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${n} ${n === 1 ? "byte" : "bytes"}` : `${v.toFixed(1)} ${units[i]}`;
}

const serviceSelect = { select: { id: true, name: true, kind: true, settings: true } } as const;

/** What the Data panel reads of an instance (dataPanelOf turns it into the panel). */
export const DATA_PANEL_SELECT = {
  mysqlService: serviceSelect,
  mongodbService: serviceSelect,
  storageService: serviceSelect,
  dataResources: { select: { serviceId: true, kind: true, name: true, status: true, detail: true, sizeBytes: true, checkedAt: true }, orderBy: [{ kind: "asc" }, { name: "asc" }] },
} as const satisfies Prisma.InstanceSelect;

export function dataPanelOf(instance: Prisma.InstanceGetPayload<{ select: typeof DATA_PANEL_SELECT }>): DataPanelService[] {
  const byKind = { mysql: instance.mysqlService, mongodb: instance.mongodbService, s3: instance.storageService };
  return SERVICE_COLUMNS.map(({ kind }) => {
    const service = byKind[kind];
    const resources = service ? instance.dataResources.filter((r) => r.serviceId === service.id) : [];
    const lastChecked = resources.reduce<Date | null>((at, r) => (!at || r.checkedAt > at ? r.checkedAt : at), null);
    return {
      kind, label: KIND_LABELS[kind],
      service: service && { name: service.name, location: serviceLocation(service) },
      resources: resources.map((r) => ({ kind: r.kind, name: r.name, status: r.status, detail: r.detail, size: formatBytes(r.sizeBytes), checkedAt: r.checkedAt })),
      lastChecked,
    };
  });
}
