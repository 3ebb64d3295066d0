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
  /** As the service reported it; null for a user, or before the first check. Pages show it with h.bytes. */
  sizeBytes: number | null;
  checkedAt: Date;
}

export interface DataPanelService {
  kind: DataServiceKind;
  label: string;
  service: { name: string; location: string } | null;
  resources: DataPanelResource[];
  lastChecked: Date | null;
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
      resources: resources.map((r) => ({ kind: r.kind, name: r.name, status: r.status, detail: r.detail, sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes), checkedAt: r.checkedAt })),
      lastChecked,
    };
  });
}
