// After SECRET_KEY changed (the old one in SECRET_KEY_PREVIOUS): re-encrypts what is sealed at rest
// (instance master keys and JWT signing keys, provider credentials, certificate and ACME account keys,
// watched repositories' webhook secrets) under the current key, so that
// the old one can go. The plain values stay the same: instances keep their basic auth and every
// secret their appservers share, providers their credentials.
import type { Deps } from "../../deps.js";

export interface ResealOutcome {
  instances: number;
  providerAccounts: number;
  /** Certificates' private keys and ACME account keys. */
  tlsKeys: number;
  /** Watched repositories' webhook secrets (docs/pr-sandboxes.md). */
  webhookSecrets: number;
  /** "instance 12", "provider account 3": sealed under a key Ocim no longer has; left as they are. */
  unreadable: string[];
}

export async function resealSecrets(deps: Pick<Deps, "db" | "secrets">): Promise<ResealOutcome> {
  const outcome: ResealOutcome = { instances: 0, providerAccounts: 0, tlsKeys: 0, webhookSecrets: 0, unreadable: [] };
  const reseal = (sealed: string, what: string): string | null => {
    try {
      return deps.secrets.encrypt(deps.secrets.decrypt(sealed));
    } catch {
      outcome.unreadable.push(what);
      return null;
    }
  };
  await deps.db.$transaction(async (tx) => {
    for (const row of await tx.instance.findMany({ select: { id: true, secretKeyEncrypted: true, jwtKeyEncrypted: true }, orderBy: { id: "asc" } })) {
      const sealed = reseal(row.secretKeyEncrypted, `instance ${row.id}`);
      if (sealed === null) continue;
      // Empty until the instance's first launch (instance-secrets.ts): nothing to reseal then.
      const jwt = row.jwtKeyEncrypted ? reseal(row.jwtKeyEncrypted, `instance ${row.id} (JWT key)`) : "";
      if (jwt === null) continue;
      await tx.instance.update({ where: { id: row.id }, data: { secretKeyEncrypted: sealed, jwtKeyEncrypted: jwt } });
      outcome.instances += 1;
    }
    const accounts = await tx.providerAccount.findMany({ where: { credentialsEncrypted: { not: "" } }, select: { id: true, credentialsEncrypted: true }, orderBy: { id: "asc" } });
    for (const row of accounts) {
      const sealed = reseal(row.credentialsEncrypted, `provider account ${row.id}`);
      if (sealed === null) continue;
      await tx.providerAccount.update({ where: { id: row.id }, data: { credentialsEncrypted: sealed } });
      outcome.providerAccounts += 1;
    }
    const certificates = await tx.instanceCertificate.findMany({ where: { privateKeyEncrypted: { not: "" } }, select: { id: true, instanceId: true, privateKeyEncrypted: true }, orderBy: { id: "asc" } });
    for (const row of certificates) {
      const sealed = reseal(row.privateKeyEncrypted, `instance ${row.instanceId} (certificate key)`);
      if (sealed === null) continue;
      await tx.instanceCertificate.update({ where: { id: row.id }, data: { privateKeyEncrypted: sealed } });
      outcome.tlsKeys += 1;
    }
    for (const row of await tx.acmeAccount.findMany({ select: { id: true, keyEncrypted: true }, orderBy: { id: "asc" } })) {
      const sealed = reseal(row.keyEncrypted, `ACME account ${row.id}`);
      if (sealed === null) continue;
      await tx.acmeAccount.update({ where: { id: row.id }, data: { keyEncrypted: sealed } });
      outcome.tlsKeys += 1;
    }
    const watched = await tx.watchedRepository.findMany({ where: { webhookSecretEncrypted: { not: "" } }, select: { id: true, owner: true, name: true, webhookSecretEncrypted: true }, orderBy: { id: "asc" } });
    for (const row of watched) {
      const sealed = reseal(row.webhookSecretEncrypted, `watched repository ${row.owner}/${row.name}`);
      if (sealed === null) continue;
      await tx.watchedRepository.update({ where: { id: row.id }, data: { webhookSecretEncrypted: sealed } });
      outcome.webhookSecrets += 1;
    }
  }, { timeout: 120_000 });
  return outcome;
}
