// The periodic job: every instance on a balancer gets a certificate, and each is renewed 30 days
// before it expires (Let's Encrypt's advice for 90-day certificates), or when the instance's
// domains no longer match it. One instance at a time: each order waits on the CA's validations.
// Certificates an admin uploaded (source custom) are never ordered over: their pages warn instead.
import { allDomains } from "../instances/domains.js";
import { issueCertificate } from "./issue-certificate.js";

export const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;

type RenewDeps = Parameters<typeof issueCertificate>[0];

export async function renewCertificates(deps: RenewDeps): Promise<{ renewed: number[]; failed: number[] }> {
  const result = { renewed: [] as number[], failed: [] as number[] };
  if (!deps.config.ACME_DIRECTORY_URL) return result;
  const renewBefore = new Date(deps.now().getTime() + RENEW_BEFORE_DAYS * DAY_MS);
  const instances = await deps.db.instance.findMany({
    where: { isArchived: false, loadBalancer: { OR: [{ kind: "local" }, { httpsBind: { not: "" } }] }, NOT: { certificate: { is: { source: "custom" } } } },
    select: {
      id: true, internalLmsDomain: true, studioDomain: true, previewDomain: true, ecommerceDomain: true, discoveryDomain: true, appsDomain: true, externalDomains: true,
      certificate: { select: { notAfter: true, domains: true } },
    },
    orderBy: { id: "asc" },
  });
  for (const instance of instances) {
    const certificate = instance.certificate;
    const due = !certificate?.notAfter || certificate.notAfter <= renewBefore || certificate.domains.join(" ") !== allDomains(instance).join(" ");
    if (!due) continue;
    const outcome = await issueCertificate(deps, { instanceId: instance.id });
    (outcome.ok ? result.renewed : result.failed).push(instance.id);
  }
  deps.log.info(result, "certificate.renewal.done");
  return result;
}
