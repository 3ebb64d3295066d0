// An admin uploads a certificate chain and its private key for an instance whose domains cannot use
// ACME HTTP-01 (behind another proxy, a wildcard bought elsewhere). Checked with node:crypto before
// anything changes: it parses, the key is the certificate's, it is valid now, and it names every
// domain of the instance. Then stored like an ordered one (the key sealed with SECRET_KEY) but
// marked `custom`: the renewal job leaves it alone, and the balancer serves it.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import type { Deps } from "../../deps.js";
import { notFound, validationError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { allDomains } from "../instances/domains.js";
import { bumpConfiguration } from "../loadbalancer/bump-configuration.js";
import { applyLoadBalancer } from "../loadbalancer/apply-load-balancer.js";

type UploadDeps = Pick<Deps, "config" | "db" | "redis" | "log" | "secrets" | "now" | "metrics">;

export interface UploadCertificateInput {
  actor: Actor;
  instanceId: number;
  /** The server certificate first, then the intermediates (PEM). */
  certificatePem: unknown;
  privateKeyPem: unknown;
}

const PEM_BLOCK_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const MAX_PEM = 64 * 1024;

export interface CheckedCertificate {
  chainPem: string;
  keyPem: string;
  issuer: string;
  notAfter: Date;
}

/** Throws a validation error naming the field and what is wrong; never echoes the key. */
export function checkUploadedCertificate(input: { certificatePem: unknown; privateKeyPem: unknown; domains: string[]; now: Date }): CheckedCertificate {
  const chainText = typeof input.certificatePem === "string" ? input.certificatePem.trim() : "";
  const keyText = typeof input.privateKeyPem === "string" ? input.privateKeyPem.trim() : "";
  if (!chainText) throw validationError({ certificatePem: "Paste the certificate chain (PEM): the server certificate first, then the intermediates." });
  if (!keyText) throw validationError({ privateKeyPem: "Paste the certificate's private key (PEM, not encrypted with a passphrase)." });
  if (chainText.length > MAX_PEM || keyText.length > MAX_PEM) throw validationError({ certificatePem: `The certificate and the key must each be under ${MAX_PEM / 1024} KiB.` });
  const blocks = chainText.match(PEM_BLOCK_RE) ?? [];
  if (!blocks.length) throw validationError({ certificatePem: 'No PEM certificate found: it starts with "-----BEGIN CERTIFICATE-----".' });
  const chain: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      chain.push(new X509Certificate(block));
    } catch (err) {
      throw validationError({ certificatePem: `Certificate ${i + 1} of the chain cannot be read: ${(err as Error).message}.` });
    }
  }
  const leaf = chain[0]!;
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch {
    // Not the library's message: it may quote part of the key.
    throw validationError({ privateKeyPem: "This is not a readable PEM private key (an encrypted key needs its passphrase removed first: openssl pkey -in key.pem -out plain.pem)." });
  }
  if (!leaf.checkPrivateKey(key)) {
    throw validationError({ privateKeyPem: `This private key does not belong to the certificate for ${leaf.subject.replace(/\n/g, ", ")} (its public key is another).` });
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (notAfter <= input.now) throw validationError({ certificatePem: `The certificate expired on ${notAfter.toISOString()}.` });
  if (notBefore > input.now) throw validationError({ certificatePem: `The certificate is not valid before ${notBefore.toISOString()}.` });
  // checkHost follows RFC 6125: the subjectAltName DNS names, wildcards one label deep.
  const missing = input.domains.filter((domain) => leaf.checkHost(domain, { subject: "default" }) === undefined);
  if (missing.length) {
    throw validationError({ certificatePem: `The certificate does not cover ${missing.join(", ")}; it must name every domain of the instance (its names: ${leaf.subjectAltName ?? "none"}).` });
  }
  const issuer = /(?:^|\n)CN=([^\n]+)/.exec(leaf.issuer)?.[1] ?? leaf.issuer.replace(/\n/g, ", ");
  return { chainPem: `${blocks.join("\n")}\n`, keyPem: `${key.export({ format: "pem", type: "pkcs8" }).toString().trim()}\n`, issuer, notAfter };
}

/** Stores the certificate and applies the balancer; `applyError` says why the balancer did not take it yet (the certificate is kept). */
export async function uploadCertificate(deps: UploadDeps, input: UploadCertificateInput): Promise<{ notAfter: Date; applyError?: string }> {
  const instance = await deps.db.instance.findUnique({ where: { id: input.instanceId } });
  if (!instance) throw notFound("Instance");
  const domains = allDomains(instance);
  const checked = checkUploadedCertificate({ certificatePem: input.certificatePem, privateKeyPem: input.privateKeyPem, domains, now: deps.now() });
  const instanceId = instance.id;
  const data = {
    certificatePem: checked.chainPem,
    privateKeyEncrypted: deps.secrets.encrypt(checked.keyPem),
    domains,
    issuer: checked.issuer,
    notAfter: checked.notAfter,
    source: "custom" as const,
    uploadedBy: input.actor.login,
    lastError: "",
    lastAttemptAt: deps.now(),
  };
  // What the audit row says: never the key, nor a digest of it.
  const view = (row: { source: string; issuer: string; notAfter: Date | null; domains: string[] } | null) =>
    row && { source: row.source, issuer: row.issuer, notAfter: row.notAfter, domains: row.domains };
  const balancers = await deps.db.$transaction(async (tx) => {
    const before = await tx.instanceCertificate.findUnique({ where: { instanceId }, select: { source: true, issuer: true, notAfter: true, domains: true } });
    await tx.instanceCertificate.upsert({ where: { instanceId }, create: { instanceId, ...data }, update: data });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "certificate.uploaded", subjectType: "Instance", subjectId: instanceId, subjectName: instance.name,
      before: view(before), after: view(data),
    });
    return bumpConfiguration(tx, { instanceId });
  });
  deps.log.info({ instanceId, notAfter: checked.notAfter, issuer: checked.issuer, by: input.actor.login }, "certificate.uploaded");
  try {
    for (const loadBalancerId of balancers) await applyLoadBalancer(deps, { loadBalancerId });
  } catch (err) {
    // Recorded as the balancer's last error too; the next apply serves the certificate.
    return { notAfter: checked.notAfter, applyError: (err as Error).message };
  }
  return { notAfter: checked.notAfter };
}
