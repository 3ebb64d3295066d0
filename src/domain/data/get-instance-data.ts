// The instance page's "Data" panel: per kind, the service the instance uses (name, where) and what
// Ocim last saw of each of its resources there, with when. Names, statuses and sizes only: never a
// credential (operators see this panel too). Read with the instance page's other panels
// (get-instance-panels.ts).
import type { DataResourceKind, DataResourceStatus, DataServiceKind } from "../../generated/prisma/enums.ts";
import { KIND_LABELS, SERVICE_COLUMNS, serviceLocation, type ServiceRow } from "./instance-services.js";

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

/** What the Data panel is made from: the instance's service of each kind and its resource rows (get-instance-panels.ts reads them). */
export interface DataPanelSource {
  mysqlService: ServiceRow | null;
  mongodbService: ServiceRow | null;
  storageService: ServiceRow | null;
  dataResources: { serviceId: number; kind: DataResourceKind; name: string; status: DataResourceStatus; detail: string; sizeBytes: bigint | null; checkedAt: Date }[];
}

export function dataPanelOf(instance: DataPanelSource): DataPanelService[] {
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
