// The instance page's panels under its settings (Data, HTTPS, Decommission), read by getInstance in
// the same statement as the instance: PANEL_COLUMNS are its columns, panelsOf turns them into the
// panels. As one Prisma model query with relationJoins, Prisma 6 compiled them on the event loop for
// every page view: 3.9–5.2 ms of the web process's CPU per call, against 0.4–0.6 ms for a raw
// statement (in-process, 400 calls after 100, 10,000-instance bench fleet); the instance page then
// answered 1.1× the Django change form instead of issue 17's 6× (bench/README.md, 2026-12-02).
import { jsonTimestamp } from "../../db.js";
import { Prisma, type AppServerStatus } from "../../generated/prisma/client.ts";
import { certificateStateOf, uncoveredDomains, type CertificateState } from "../certificates/get-certificates.js";
import { dataPanelOf, type DataPanelService, type DataPanelSource } from "../data/get-instance-data.js";

export interface InstancePanels {
  data: DataPanelService[];
  /** With the instance's domains the served certificate does not name (added since it was issued). */
  certificate: (CertificateState & { uncovered: string[] }) | null;
  /** Its appservers not terminated, by number: what decommissionOf needs besides the instance. */
  live: { name: string; status: AppServerStatus; isActive: boolean }[];
}

/** PANEL_COLUMNS as they come back: lists and rows as JSON, whose timestamps are text and BIGINT a number. */
export interface PanelColumns extends Omit<DataPanelSource, "dataResources"> {
  dataResources: (Omit<DataPanelSource["dataResources"][number], "sizeBytes" | "checkedAt"> & { sizeBytes: number | null; checkedAt: string })[];
  live: InstancePanels["live"];
  certificate: {
    instanceId: number; certificatePem: string; source: "acme" | "custom"; uploadedBy: string; issuer: string;
    notAfter: string | null; lastError: string; lastAttemptAt: string | null; domains: string[];
  } | null;
}

const service = (column: string) => `(SELECT json_build_object('id', s.id, 'name', s.name, 'kind', s.kind, 'settings', s.settings)
      FROM "DataService" s WHERE s.id = i."${column}")`;

/** The panels' columns of the instance `i`. */
export const PANEL_COLUMNS = Prisma.raw(`
    ${service("mysqlServiceId")} AS "mysqlService", ${service("mongodbServiceId")} AS "mongodbService",
    ${service("storageServiceId")} AS "storageService",
    (SELECT coalesce(json_agg(json_build_object('serviceId', r."serviceId", 'kind', r.kind, 'name', r.name, 'status', r.status,
               'detail', r.detail, 'sizeBytes', r."sizeBytes", 'checkedAt', r."checkedAt") ORDER BY r.kind, r.name), '[]')
     FROM "InstanceDataResource" r WHERE r."instanceId" = i.id) AS "dataResources",
    (SELECT coalesce(json_agg(json_build_object('name', a.name, 'status', a.status, 'isActive', a."isActive") ORDER BY a.number), '[]')
     FROM "AppServer" a WHERE a."instanceId" = i.id AND a.status <> 'terminated') AS live,
    (SELECT json_build_object('instanceId', c."instanceId", 'certificatePem', c."certificatePem", 'source', c.source,
               'uploadedBy', c."uploadedBy", 'issuer', c.issuer, 'notAfter', c."notAfter", 'lastError', c."lastError",
               'lastAttemptAt', c."lastAttemptAt", 'domains', c.domains)
     FROM "InstanceCertificate" c WHERE c."instanceId" = i.id) AS certificate`);

/** `domains`: the instance's, which the served certificate should all name. */
export function panelsOf(row: PanelColumns, domains: string[], now: Date): InstancePanels {
  const cert = row.certificate;
  return {
    data: dataPanelOf({
      ...row,
      dataResources: row.dataResources.map((r) => ({ ...r, sizeBytes: r.sizeBytes === null ? null : BigInt(r.sizeBytes), checkedAt: jsonTimestamp(r.checkedAt) })),
    }),
    certificate: cert && {
      ...certificateStateOf({ ...cert, notAfter: jsonTimestamp(cert.notAfter), lastAttemptAt: jsonTimestamp(cert.lastAttemptAt) }, now),
      uncovered: uncoveredDomains(cert, domains),
    },
    live: row.live,
  };
}
