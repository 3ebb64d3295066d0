// What the instance and balancer pages say about HTTPS: whether a certificate is served, who issued
// it, when it expires and when it will be renewed, and why the last order failed. Never the key.
import { X509Certificate } from "node:crypto";
import type { Deps } from "../../deps.js";
import { RENEW_BEFORE_DAYS } from "./renew-certificates.js";

const DAY_MS = 86_400_000;

export interface CertificateState {
  instanceId: number;
  /** none: HTTP only; valid; expired: haproxy still serves it, browsers refuse it. */
  status: "none" | "valid" | "expired";
  /** acme: Ocim orders and renews it; custom: an admin uploaded it (uploadedBy) and must replace it. */
  source: "acme" | "custom";
  uploadedBy: string;
  /** A custom certificate that expires within RENEW_BEFORE_DAYS: nobody renews it but an admin. */
  expiresSoon: boolean;
  issuer: string;
  notAfter: Date | null;
  renewFrom: Date | null;
  lastError: string;
  lastAttemptAt: Date | null;
}

/** What a certificate's state is read from (certificateStateOf). */
export const CERTIFICATE_SELECT = { instanceId: true, certificatePem: true, source: true, uploadedBy: true, issuer: true, notAfter: true, lastError: true, lastAttemptAt: true } as const;

type Row = { instanceId: number; certificatePem: string; source: "acme" | "custom"; uploadedBy: string; issuer: string; notAfter: Date | null; lastError: string; lastAttemptAt: Date | null };

export function certificateStateOf(row: Row, now: Date): CertificateState {
  const status = !row.certificatePem || !row.notAfter ? "none" : row.notAfter <= now ? "expired" : "valid";
  const renewFrom = row.notAfter ? new Date(row.notAfter.getTime() - RENEW_BEFORE_DAYS * DAY_MS) : null;
  return {
    instanceId: row.instanceId,
    status,
    source: row.source,
    uploadedBy: row.uploadedBy,
    expiresSoon: row.source === "custom" && status === "valid" && renewFrom !== null && renewFrom <= now,
    issuer: row.issuer,
    notAfter: row.notAfter,
    renewFrom: row.source === "custom" ? null : renewFrom,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt,
  };
}

/**
 * Those of `domains` the certificate does not name: domains added to the instance after it was
 * issued (or uploaded). The names it was issued for are compared first; only a domain not among
 * them is checked against the certificate itself (an uploaded wildcard may cover it).
 */
export function uncoveredDomains(row: { certificatePem: string; domains: string[] }, domains: string[]): string[] {
  if (!row.certificatePem) return [];
  const named = new Set(row.domains);
  const rest = domains.filter((d) => !named.has(d));
  if (!rest.length) return [];
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(row.certificatePem);
  } catch {
    return rest;
  }
  return rest.filter((d) => leaf.checkHost(d, { subject: "default" }) === undefined);
}

export async function getInstanceCertificate(deps: Pick<Deps, "db" | "now">, input: { instanceId: number }): Promise<CertificateState | null> {
  const row = await deps.db.instanceCertificate.findUnique({ where: { instanceId: input.instanceId }, select: CERTIFICATE_SELECT });
  return row ? certificateStateOf(row, deps.now()) : null;
}

/** One line per instance of the balancer that has a certificate or a failed order. */
export async function describeBalancerCertificates(deps: Pick<Deps, "db" | "now">, input: { loadBalancerId: number }): Promise<string> {
  const rows = await deps.db.instanceCertificate.findMany({ where: { instance: { loadBalancerId: input.loadBalancerId } }, select: { ...CERTIFICATE_SELECT, instance: { select: { name: true } } }, orderBy: { instanceId: "asc" } });
  if (rows.length === 0) return "";
  return rows
    .map((row) => {
      const state = certificateStateOf(row, deps.now());
      const served = state.status === "none" ? "no certificate" : `${describeCertificate(state)}, expires ${state.notAfter!.toISOString()}`;
      const warning = state.expiresSoon ? ` — expires within ${RENEW_BEFORE_DAYS} days and is not renewed: upload its successor` : "";
      return `${row.instance.name}: ${served}${warning}${state.lastError ? ` — last order failed: ${state.lastError}` : ""}`;
    })
    .join("\n");
}

/** "valid, issued by …" or "custom, uploaded by …, issued by …", as both pages say it. */
export function describeCertificate(state: CertificateState): string {
  const custom = state.source === "custom" ? `custom, uploaded by ${state.uploadedBy}, ` : "";
  return `${custom}${state.status}, issued by ${state.issuer}`;
}
