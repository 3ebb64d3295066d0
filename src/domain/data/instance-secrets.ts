// The Open edX secrets of an instance (docs/security.md, "Secrets an instance's appservers share"):
// the same for every appserver of the instance, so a new appserver reads the sessions, tokens,
// encrypted fields and OAuth clients the old one wrote. Each string is an HMAC of the instance's
// master key with a label of its own (as basicAuthFor does; the original Ocim's
// instance/models/mixins/secret_keys.py did the same, per variable name); only the JWT signing key
// cannot be derived that way (an RSA key), so it is generated once and stored encrypted.
// The names are openedx/configuration's (tests/variables.test.ts checks each against its list).
import { createHash, createHmac, createPrivateKey, generateKeyPair, type JsonWebKey } from "node:crypto";
import { promisify } from "node:util";
import type { Prisma } from "../../db.js";
import type { Secrets } from "../../crypto.js";

/** Django SECRET_KEYs and service API keys: one derived value each. */
const DERIVED_KEYS = [
  "EDXAPP_EDXAPP_SECRET_KEY",
  "ECOMMERCE_SECRET_KEY",
  "DISCOVERY_SECRET_KEY",
  "CREDENTIALS_SECRET_KEY",
  "EDX_NOTES_API_SECRET_KEY",
  "ANALYTICS_API_SECRET_KEY",
  "INSIGHTS_SECRET_KEY",
  "ECOMMERCE_WORKER_JWT_SECRET_KEY",
  "EDXAPP_JWT_SECRET_KEY",
  "EDXAPP_EDX_API_KEY",
  "FORUM_API_KEY",
  "EDXAPP_PROFILE_IMAGE_HASH_SEED",
] as const;

/** Names that must hold the same value as another (both ends of one shared key). */
const SHARED_KEYS: Record<string, (typeof DERIVED_KEYS)[number]> = {
  COMMON_JWT_SECRET_KEY: "EDXAPP_JWT_SECRET_KEY",
  ECOMMERCE_EDX_API_KEY: "EDXAPP_EDX_API_KEY",
  EDXAPP_COMMENTS_SERVICE_KEY: "FORUM_API_KEY",
};

/**
 * The IDAs that sign in through the LMS. The configuration repo uses one pair of names per client
 * on both sides: the LMS's oauth_client_setup registers the client with the same KEY and SECRET
 * that the IDA is configured with, so one value per name serves both ends.
 */
const OAUTH2_CLIENTS = ["ECOMMERCE", "DISCOVERY", "CREDENTIALS", "INSIGHTS", "EDXAPP_CMS"] as const;

export const JWT_SIGNING_ALGORITHM = "RS512";

const generateRsa = promisify(generateKeyPair);

/**
 * A new RSA 2048 signing key, encrypted for Instance.jwtKeyEncrypted (PKCS#8 PEM inside). Made off
 * the event loop: one takes ~0.1-0.8 s of CPU, which the synchronous call would take from every request.
 */
export async function newJwtKey(secrets: Secrets): Promise<string> {
  const { privateKey } = await generateRsa("rsa", { modulusLength: 2048 });
  return secrets.encrypt(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
}

/**
 * The instance's JWT key, made now if it has none (instances made before keys were generated at
 * creation). Only the first writer's key is kept: the update matches an empty column only, so a
 * second launch racing this one reads the first's key instead of replacing it.
 */
export async function ensureJwtKey<T extends { id: number; jwtKeyEncrypted: string }>(tx: Prisma.TransactionClient, secrets: Secrets, instance: T): Promise<T> {
  if (instance.jwtKeyEncrypted) return instance;
  await tx.instance.updateMany({ where: { id: instance.id, jwtKeyEncrypted: "" }, data: { jwtKeyEncrypted: await newJwtKey(secrets) } });
  const { jwtKeyEncrypted } = await tx.instance.findUniqueOrThrow({ where: { id: instance.id }, select: { jwtKeyEncrypted: true } });
  return { ...instance, jwtKeyEncrypted };
}

/** The key id: the RFC 7638 thumbprint of the public key, so it names this key and no other. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return createHash("sha256").update(canonical).digest("base64url");
}

export function signingJwks(secrets: Secrets, jwtKeyEncrypted: string): { privateJwk: string; publicJwkSet: string } {
  const jwk = createPrivateKey(secrets.decrypt(jwtKeyEncrypted)).export({ format: "jwk" });
  const kid = thumbprint(jwk);
  return {
    privateJwk: JSON.stringify({ kid, ...jwk }),
    publicJwkSet: JSON.stringify({ keys: [{ kid, kty: jwk.kty, e: jwk.e, n: jwk.n }] }),
  };
}

/** A valid Fernet key (32 bytes, url-safe base64 with its padding, as Python's cryptography reads it). */
function fernetKey(master: string, label: string): string {
  return createHmac("sha256", master).update(label).digest("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

export interface SecretSource {
  secretKeyEncrypted: string;
  /** Empty: no JWT variables (the caller ensures the key first; see ensureJwtKey). */
  jwtKeyEncrypted: string;
}

/** The instance's secret playbook variables. */
export function instanceSecretVariables(secrets: Secrets, instance: SecretSource): Record<string, unknown> {
  const master = secrets.decrypt(instance.secretKeyEncrypted);
  const derive = (label: string, length = 64) => secrets.hmac(master, `openedx:${label}`).slice(0, length);
  const vars: Record<string, unknown> = {};
  for (const name of DERIVED_KEYS) vars[name] = derive(name);
  for (const [name, from] of Object.entries(SHARED_KEYS)) vars[name] = vars[from];
  for (const client of OAUTH2_CLIENTS) {
    for (const flow of ["SOCIAL_AUTH", "BACKEND_SERVICE"]) {
      // The KEY is the client id (public in a browser's redirect), the SECRET its password.
      vars[`${client}_${flow}_EDX_OAUTH2_KEY`] = `${client.toLowerCase()}-${flow === "SOCIAL_AUTH" ? "sso" : "backend"}-${derive(`${client}_${flow}_EDX_OAUTH2_KEY`, 16)}`;
      vars[`${client}_${flow}_EDX_OAUTH2_SECRET`] = derive(`${client}_${flow}_EDX_OAUTH2_SECRET`);
    }
  }
  vars.EDX_NOTES_API_CLIENT_ID = `notes-${derive("EDX_NOTES_API_CLIENT_ID", 16)}`;
  vars.EDX_NOTES_API_CLIENT_SECRET = derive("EDX_NOTES_API_CLIENT_SECRET");
  vars.EDXAPP_FERNET_KEYS = [fernetKey(master, "openedx:EDXAPP_FERNET_KEYS:0")];
  vars.EDXAPP_RETIRED_USER_SALTS = [derive("EDXAPP_RETIRED_USER_SALTS:0")];

  // xqueue: the basic auth of its nginx (the LMS sends it as EDXAPP_XQUEUE_BASIC_AUTH) and the
  // Django user "lms" the LMS logs in as (both sides' names set, not left to the defaults' templating).
  const xqueueUser = `xqueue-${derive("XQUEUE_BASIC_AUTH_USER", 12)}`;
  const xqueuePassword = derive("XQUEUE_BASIC_AUTH_PASSWORD", 32);
  const xqueueLms = derive("COMMON_XQUEUE_LMS_PASSWORD", 32);
  Object.assign(vars, {
    XQUEUE_BASIC_AUTH_USER: xqueueUser,
    XQUEUE_BASIC_AUTH_PASSWORD: xqueuePassword,
    EDXAPP_XQUEUE_BASIC_AUTH: [xqueueUser, xqueuePassword],
    COMMON_XQUEUE_LMS_PASSWORD: xqueueLms,
    EDXAPP_XQUEUE_DJANGO_AUTH: { username: "lms", password: xqueueLms },
    XQUEUE_DJANGO_USERS: { lms: xqueueLms },
  });

  // The VM's own Redis, the LMS's Celery broker: the redis role asks no password while REDIS_PASSWORD
  // is null (its default; redis.conf.j2 writes `requirepass` only when it is set), so any process on
  // the VM could read and queue tasks. One password on both sides, as configuration's
  // sample_vars/passwords.yml wires it (EDXAPP_CELERY_PASSWORD: '{{ REDIS_PASSWORD }}'); single-beat
  // takes EDXAPP_CELERY_PASSWORD by default. The user stays '' (the broker URL is redis://:<password>@…).
  const redisPassword = derive("REDIS_PASSWORD", 32);
  Object.assign(vars, { REDIS_PASSWORD: redisPassword, EDXAPP_CELERY_PASSWORD: redisPassword });

  if (instance.jwtKeyEncrypted) {
    const { privateJwk, publicJwkSet } = signingJwks(secrets, instance.jwtKeyEncrypted);
    Object.assign(vars, {
      // openedx_native.yml sets CONFIGURE_JWTS, whose jwt_signature role generates a key on each
      // VM and writes it over this one into lms.yml: every appserver would sign with its own.
      CONFIGURE_JWTS: false,
      EDXAPP_JWT_SIGNING_ALGORITHM: JWT_SIGNING_ALGORITHM,
      EDXAPP_JWT_PRIVATE_SIGNING_JWK: privateJwk,
      EDXAPP_JWT_PUBLIC_SIGNING_JWK_SET: publicJwkSet,
      // The IDAs verify the LMS's tokens with the common set.
      COMMON_JWT_PUBLIC_SIGNING_JWK_SET: publicJwkSet,
    });
  }
  return vars;
}

/**
 * The instance's secrets in Tutor's names (templates/config/base.yml of overhangio/tutor, which
 * would otherwise draw new random ones on every VM). A secret that is the same thing under both
 * recipes takes the same derivation as its openedx/configuration name, so an instance moved from
 * one recipe to the other keeps its sessions and tokens. MYSQL_* here serve Tutor's own MySQL on
 * the VM; with a shared MySQL service the tutor recipe replaces them with the data plan's user.
 */
export function tutorSecretVariables(secrets: Secrets, instance: SecretSource): Record<string, string> {
  const master = secrets.decrypt(instance.secretKeyEncrypted);
  const derive = (label: string, length = 64) => secrets.hmac(master, `openedx:${label}`).slice(0, length);
  const hex = derive("MEILISEARCH_API_KEY_UID", 32);
  const vars: Record<string, string> = {
    OPENEDX_SECRET_KEY: derive("EDXAPP_EDXAPP_SECRET_KEY"),
    JWT_COMMON_SECRET_KEY: derive("EDXAPP_JWT_SECRET_KEY"),
    CMS_OAUTH2_SECRET: derive("EDXAPP_CMS_SOCIAL_AUTH_EDX_OAUTH2_SECRET"),
    // Tutor's own 24 characters; it names the Kubernetes deployment, not a secret as such.
    ID: derive("TUTOR_ID", 24),
    MYSQL_ROOT_PASSWORD: derive("TUTOR_MYSQL_ROOT_PASSWORD", 32),
    OPENEDX_MYSQL_PASSWORD: derive("TUTOR_OPENEDX_MYSQL_PASSWORD", 32),
    MEILISEARCH_MASTER_KEY: derive("TUTOR_MEILISEARCH_MASTER_KEY", 32),
    // Tutor's `4|uuid` makes a version-4 UUID; Meilisearch rejects a key uid of any other shape.
    MEILISEARCH_API_KEY_UID: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`,
  };
  // Tutor's rsa_private_key filter writes PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"); the same key as the
  // configuration recipes' EDXAPP_JWT_PRIVATE_SIGNING_JWK, in Tutor's format.
  if (instance.jwtKeyEncrypted) {
    vars.JWT_RSA_PRIVATE_KEY = createPrivateKey(secrets.decrypt(instance.jwtKeyEncrypted)).export({ type: "pkcs1", format: "pem" }).toString();
  }
  return vars;
}
