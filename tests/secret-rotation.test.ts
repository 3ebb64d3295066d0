// Rotating SECRET_KEY (docs/security.md): with the old key in SECRET_KEY_PREVIOUS, reseal-secrets
// re-encrypts everything sealed at rest under the new one, and the old key can then go.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecrets } from "../src/crypto.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { newJwtKey, signingJwks } from "../src/domain/data/instance-secrets.js";
import { resealSecrets } from "../src/domain/secrets/reseal-secrets.js";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";

const NEW_KEY = "the-new-secret-key-after-rotation-0123456789";

describe("rotating SECRET_KEY", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(() => deps.close());

  it("re-encrypts instance keys, provider credentials and TLS keys under the new key, keeping their values", async () => {
    const instance = await makeInstance(deps, { name: "Alpha", internalLmsDomain: "alpha.example.test" });
    const account = await deps.db.providerAccount.create({
      data: { name: "cloud", kind: "openstack", credentialsEncrypted: deps.secrets.encrypt('{"password":"hunter2"}') },
    });
    await deps.db.instanceCertificate.create({ data: { instanceId: instance.id, certificatePem: "chain", privateKeyEncrypted: deps.secrets.encrypt("certificate key") } });
    await deps.db.acmeAccount.create({ data: { directoryUrl: "https://acme.example.test/dir", keyEncrypted: deps.secrets.encrypt("account key") } });
    const watched = await deps.db.watchedRepository.create({ data: { owner: "acme", name: "edx-platform", templateInstanceId: instance.id, webhookSecretEncrypted: deps.secrets.encrypt("webhook secret 0123") } });
    const basicAuth = basicAuthFor(deps.secrets, instance);
    const onlyNew = createSecrets(NEW_KEY);
    expect(() => onlyNew.decrypt(instance.secretKeyEncrypted)).toThrow();

    const outcome = await resealSecrets({ db: deps.db, secrets: createSecrets(NEW_KEY, [TEST_SECRET_KEY]) });
    expect(outcome).toEqual({ instances: 1, providerAccounts: 1, tlsKeys: 2, webhookSecrets: 1, unreadable: [] });

    const resealed = await deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(basicAuthFor(onlyNew, resealed)).toEqual(basicAuth);
    const credentials = (await deps.db.providerAccount.findUniqueOrThrow({ where: { id: account.id } })).credentialsEncrypted;
    expect(onlyNew.decrypt(credentials)).toBe('{"password":"hunter2"}');
    const certificate = await deps.db.instanceCertificate.findUniqueOrThrow({ where: { instanceId: instance.id } });
    expect(onlyNew.decrypt(certificate.privateKeyEncrypted)).toBe("certificate key");
    expect(onlyNew.decrypt((await deps.db.acmeAccount.findFirstOrThrow()).keyEncrypted)).toBe("account key");
    expect(onlyNew.decrypt((await deps.db.watchedRepository.findUniqueOrThrow({ where: { id: watched.id } })).webhookSecretEncrypted)).toBe("webhook secret 0123");
  });

  it("names what no key it has can open, and leaves it as it was", async () => {
    const stranger = createSecrets("a-key-nobody-here-has-any-more-0123456789");
    const orphan = await deps.db.providerAccount.create({ data: { name: "lost", kind: "openstack", credentialsEncrypted: stranger.encrypt("{}") } });
    const outcome = await resealSecrets({ db: deps.db, secrets: createSecrets(NEW_KEY, [TEST_SECRET_KEY]) });
    expect(outcome.unreadable).toEqual([`provider account ${orphan.id}`]);
    expect((await deps.db.providerAccount.findUniqueOrThrow({ where: { id: orphan.id } })).credentialsEncrypted).toBe(orphan.credentialsEncrypted);
  });

  it("re-encrypts an instance's JWT signing key, so its appservers keep signing with the same one", async () => {
    const instance = await makeInstance(deps, { name: "Beta", internalLmsDomain: "beta.example.test", jwtKeyEncrypted: await newJwtKey(deps.secrets) });
    const before = signingJwks(deps.secrets, instance.jwtKeyEncrypted);
    const newKey = "a-second-rotation-key-for-the-jwt-test-0123456789";
    await resealSecrets({ db: deps.db, secrets: createSecrets(newKey, [NEW_KEY, TEST_SECRET_KEY]) });
    const resealed = await deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
    expect(signingJwks(createSecrets(newKey), resealed.jwtKeyEncrypted)).toEqual(before);
  });
});
