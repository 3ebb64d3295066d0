// Orders (or renews) the certificate of one instance for all its domains by ACME HTTP-01, answered
// by the instance's own balancer, stores it (the key sealed with SECRET_KEY) and applies the
// balancer, which then serves HTTPS and redirects HTTP to it (docs/load-balancer.md).
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { challengeMapFor } from "../../adapters/haproxy/targets.js";
import { createAccountKey, orderCertificate } from "../../adapters/acme/order-certificate.js";
import { allDomains } from "../instances/domains.js";
import { bumpConfiguration } from "../loadbalancer/bump-configuration.js";
import { applyLoadBalancer } from "../loadbalancer/apply-load-balancer.js";
import { servesHttps } from "../loadbalancer/render-input.js";
import { balancerHostKeyPin } from "../loadbalancer/host-key.js";

type IssueDeps = Pick<Deps, "config" | "db" | "redis" | "log" | "secrets" | "now" | "metrics" | "jobs">;

export interface IssueResult {
  ok: boolean;
  notAfter?: Date;
  error?: string;
}

/** Never throws for a failed order: the failure is the certificate's lastError, shown on the instance and balancer pages. */
export async function issueCertificate(deps: IssueDeps, input: { instanceId: number }): Promise<IssueResult> {
  const { instanceId } = input;
  const instance = await deps.db.instance.findUnique({ where: { id: instanceId }, include: { loadBalancer: true } });
  if (!instance) throw notFound("Instance");
  const attemptAt = deps.now();
  try {
    const balancer = instance.loadBalancer;
    if (!deps.config.ACME_DIRECTORY_URL) throw new AppError("validation", "Certificates are not ordered: the ACME_DIRECTORY_URL setting is empty.");
    if (!balancer) throw new AppError("validation", "The instance has no load balancer to answer the ACME challenge.");
    if (!servesHttps(balancer)) throw new AppError("validation", `Load balancer ${balancer.name} has no HTTPS bind: set one on its admin page to serve HTTPS on its host.`);
    const domains = allDomains(instance);
    const account = await acmeAccount(deps);
    const settings = { directoryUrl: deps.config.ACME_DIRECTORY_URL, email: deps.config.ACME_EMAIL, caFile: deps.config.ACME_CA_FILE };
    const challenges = challengeMapFor(deps, balancer, balancerHostKeyPin(deps, balancer));
    const ordered = await orderCertificate(settings, account, domains, challenges).finally(() => challenges.close());
    if (!account.url) await deps.db.acmeAccount.update({ where: { directoryUrl: settings.directoryUrl }, data: { accountUrl: ordered.accountUrl } });
    const data = {
      certificatePem: ordered.certificatePem,
      privateKeyEncrypted: deps.secrets.encrypt(ordered.privateKeyPem),
      domains,
      issuer: ordered.issuer,
      notAfter: ordered.notAfter,
      source: "acme" as const,
      uploadedBy: "",
      lastError: "",
      lastAttemptAt: attemptAt,
    };
    const balancers = await deps.db.$transaction(async (tx) => {
      await tx.instanceCertificate.upsert({ where: { instanceId }, create: { instanceId, ...data }, update: data });
      return bumpConfiguration(tx, { instanceId });
    });
    deps.log.info({ instanceId, notAfter: ordered.notAfter, issuer: ordered.issuer }, "certificate.issued");
    for (const loadBalancerId of balancers) await applyLoadBalancer(deps, { loadBalancerId });
    return { ok: true, notAfter: ordered.notAfter };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    await deps.db.instanceCertificate.upsert({
      where: { instanceId },
      create: { instanceId, lastError: error, lastAttemptAt: attemptAt },
      update: { lastError: error, lastAttemptAt: attemptAt },
    });
    deps.log.warn({ instanceId, error }, "certificate.failed");
    return { ok: false, error };
  }
}

/** The account for ACME_DIRECTORY_URL, its key made (and sealed) on first use. */
async function acmeAccount(deps: Pick<Deps, "config" | "db" | "secrets">): Promise<{ keyPem: string; url: string }> {
  const directoryUrl = deps.config.ACME_DIRECTORY_URL;
  let row = await deps.db.acmeAccount.findUnique({ where: { directoryUrl } });
  if (!row) {
    const keyEncrypted = deps.secrets.encrypt(await createAccountKey());
    row = await deps.db.acmeAccount.upsert({ where: { directoryUrl }, create: { directoryUrl, keyEncrypted }, update: {} });
  }
  return { keyPem: deps.secrets.decrypt(row.keyEncrypted), url: row.accountUrl };
}
