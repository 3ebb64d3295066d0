// Orders one certificate over ACME (RFC 8555) with `acme-client`: the account, a fresh key and CSR
// for the domains, HTTP-01 challenges published through the balancer's challenge map, then the
// chain. The CA fetches http://<domain>/.well-known/acme-challenge/<token> from the balancer itself.
import { readFileSync } from "node:fs";
import https from "node:https";
import { rootCertificates } from "node:tls";
import * as acme from "acme-client";
import type { ChallengeMap } from "../haproxy/local-acme.js";

export interface AcmeSettings {
  directoryUrl: string;
  email: string;
  /** Extra CAs for the directory's own HTTPS ("" none). */
  caFile: string;
}

export interface OrderedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  issuer: string;
  notAfter: Date;
  accountUrl: string;
}

export async function createAccountKey(): Promise<string> {
  return (await acme.crypto.createPrivateEcdsaKey("P-256")).toString();
}

export async function orderCertificate(
  settings: AcmeSettings,
  account: { keyPem: string; url: string },
  domains: string[],
  challenges: ChallengeMap,
): Promise<OrderedCertificate> {
  // acme-client talks through one shared axios instance; the agent only adds trust, never removes it.
  if (settings.caFile) acme.axios.defaults.httpsAgent = new https.Agent({ ca: [...rootCertificates, readFileSync(settings.caFile, "utf8")] });
  const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey: account.keyPem, accountUrl: account.url || undefined });
  const [key, csr] = await acme.crypto.createCsr({ commonName: domains[0], altNames: domains }, await acme.crypto.createPrivateEcdsaKey("P-256"));
  const certificatePem = await client.auto({
    csr,
    email: settings.email || undefined,
    termsOfServiceAgreed: true,
    challengePriority: ["http-01"],
    // The console may not resolve the instance's domains the way the CA does; the CA's own check is the one that counts.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => challenges.publish(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => challenges.remove(challenge.token),
  });
  const info = acme.crypto.readCertificateInfo(certificatePem);
  return { certificatePem, privateKeyPem: key.toString(), issuer: info.issuer.commonName, notAfter: info.notAfter, accountUrl: client.getAccountUrl() };
}
