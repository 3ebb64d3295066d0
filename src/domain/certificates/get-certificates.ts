// What the instance and balancer pages say about HTTPS: whether a certificate is served, who issued
// it, when it expires and when it will be renewed, and why the last order failed. Never the key.
import type { Deps } from "../../deps.js";
import { RENEW_BEFORE_DAYS } from "./renew-certificates.js";

const DAY_MS = 86_400_000;

export interface CertificateState {
  instanceId: number;
  /** none: HTTP only; valid; expired: haproxy still serves it, browsers refuse it. */
  status: "none" | "valid" | "expired";
  issuer: string;
  notAfter: Date | null;
  renewFrom: Date | null;
  lastError: string;
  lastAttemptAt: Date | null;
}

const select = { instanceId: true, certificatePem: true, issuer: true, notAfter: true, lastError: true, lastAttemptAt: true } as const;

type Row = { instanceId: number; certificatePem: string; issuer: string; notAfter: Date | null; lastError: string; lastAttemptAt: Date | null };

function stateOf(row: Row, now: Date): CertificateState {
  const status = !row.certificatePem || !row.notAfter ? "none" : row.notAfter <= now ? "expired" : "valid";
  return {
    instanceId: row.instanceId,
    status,
    issuer: row.issuer,
    notAfter: row.notAfter,
    renewFrom: row.notAfter ? new Date(row.notAfter.getTime() - RENEW_BEFORE_DAYS * DAY_MS) : null,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt,
  };
}

export async function getInstanceCertificate(deps: Pick<Deps, "db" | "now">, input: { instanceId: number }): Promise<CertificateState | null> {
  const row = await deps.db.instanceCertificate.findUnique({ where: { instanceId: input.instanceId }, select });
  return row ? stateOf(row, deps.now()) : null;
}

/** One line per instance of the balancer that has a certificate or a failed order. */
export async function describeBalancerCertificates(deps: Pick<Deps, "db" | "now">, input: { loadBalancerId: number }): Promise<string> {
  const rows = await deps.db.instanceCertificate.findMany({ where: { instance: { loadBalancerId: input.loadBalancerId } }, select: { ...select, instance: { select: { name: true } } }, orderBy: { instanceId: "asc" } });
  if (rows.length === 0) return "";
  return rows
    .map((row) => {
      const state = stateOf(row, deps.now());
      const served = state.status === "none" ? "no certificate" : `${state.status}, issued by ${state.issuer}, expires ${state.notAfter!.toISOString()}`;
      return `${row.instance.name}: ${served}${state.lastError ? ` — last order failed: ${state.lastError}` : ""}`;
    })
    .join("\n");
}
