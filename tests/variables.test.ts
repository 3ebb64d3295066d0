import { createPublicKey, createPrivateKey, sign, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createSecrets } from "../src/crypto.js";
import { generateBaseVariables, type BaseParts } from "../src/domain/provisioning/variables.js";
import { recipeLaunch, type RecipeInstance } from "../src/domain/recipes/recipe.js";
import { createMasker, maskTree, MASK, secretValuesIn } from "../src/domain/secrets/mask-secrets.js";
import { snapshotSecrets } from "../src/domain/secrets/instance-secrets.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";
import { newInstanceSecret } from "../src/domain/instances/secret.js";
import { instanceSecretVariables, newJwtKey } from "../src/domain/data/instance-secrets.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import type { DataEndpoints } from "../src/domain/provisioning/data-variables.js";
import { TEST_SECRET_KEY } from "./helpers/deps.js";

// The names the Open edX configuration repository defines (role defaults and the native playbook).
const KNOWN = new Set(
  readFileSync(path.resolve("data/openedx-configuration-vars.tsv"), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split("\t")[0]),
);

const instance = {
  name: "Demo U",
  internalLmsDomain: "demo.example.org",
  ...derivePrefixedDomains("demo.example.org"),
  edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git",
  edxPlatformBranch: "open-release/quince.master",
  configurationBranch: "open-release/quince.master",
  extraAnsibleVars: "",
};
const auth = { user: "u1", password: "p4ssw0rd-secret" };

/** The merged variables of a custom-recipe launch of `over` (the recipe that sends these names as they are). */
function mergedVariables(over: Partial<RecipeInstance>, a: typeof auth, sshUsers: { githubLogin: string; keys: string[] }[]) {
  const custom: RecipeInstance = {
    ...instance, recipe: "custom", openedxRelease: "quince", tutorPlugins: [], configurationRepoUrl: "https://github.com/openedx/configuration.git",
    playbookPath: "playbooks/openedx_native.yml", bootstrapCommand: "", ...over,
  };
  return recipeLaunch({ instance: custom, auth: a, sshUsers, parts: {} }).variables;
}

describe("playbook variables", () => {
  it("only generates names that the Open edX configuration defines", () => {
    expect(KNOWN.size).toBeGreaterThan(3000);
    const names = Object.keys(generateBaseVariables(instance, auth, [{ githubLogin: "alice", keys: ["ssh-ed25519 AAAA alice"] }]));
    const unknown = names.filter((n) => !KNOWN.has(n));
    expect(unknown).toEqual([]);
    expect(names).toContain("EDXAPP_LMS_BASE");
  });

  it("deep-merges the instance's extra YAML over the base, later wins", () => {
    const vars = mergedVariables(
      { ...instance, extraAnsibleVars: "EDXAPP_PLATFORM_NAME: Renamed\nEDXAPP_FEATURES:\n  ENABLE_X: true\nCOMMON_USER_INFO: []\n" },
      auth,
      [{ githubLogin: "alice", keys: ["k"] }],
    );
    expect(vars.EDXAPP_PLATFORM_NAME).toBe("Renamed");
    expect(vars.EDXAPP_FEATURES).toEqual({ ENABLE_X: true });
    expect(vars.COMMON_USER_INFO).toEqual([]);
    expect(vars.EDXAPP_CMS_BASE).toBe("studio.demo.example.org");
  });

  it("masks secret values for display and lists them for log masking", () => {
    const vars = mergedVariables({ ...instance, extraAnsibleVars: "EDXAPP_EDXAPP_SECRET_KEY: abcdefgh\n" }, auth, []);
    const masked = maskTree(vars, createMasker([])) as Record<string, unknown>;
    expect(masked.COMMON_HTPASSWD_PASS).toBe("••••••");
    expect(masked.EDXAPP_EDXAPP_SECRET_KEY).toBe("••••••");
    expect(masked.COMMON_HTPASSWD_USER).toBe("u1");
    expect(secretValuesIn(vars).sort()).toEqual(["abcdefgh", "p4ssw0rd-secret"]);
  });
});

const secrets = createSecrets(TEST_SECRET_KEY);
const keys = { slug: "demo-u", secretKeyEncrypted: newInstanceSecret(secrets), jwtKeyEncrypted: await newJwtKey(secrets) };
const withKeys = { ...instance, ...keys };
const SERVICES: DataEndpoints = {
  mysql: { host: "mysql.internal.test", port: 3307, tls: false },
  mongodb: { host: "mongo.internal.test", port: 27018, tls: true },
  storage: { endpoint: "https://minio.internal.test:9000", region: "eu-west-1", forcePathStyle: true, accessKeyId: "OCIMSTORAGEKEYID0001", secretAccessKey: "s3-account-secret-access-key-4242" },
};
function partsFor(source: typeof withKeys, services: DataEndpoints = SERVICES): BaseParts {
  return {
    hostname: `${source.slug}-as3`,
    secrets: instanceSecretVariables(secrets, source),
    data: Object.keys(services).length ? { plan: instanceDataPlan(secrets, source, []), services } : undefined,
  };
}
const full = generateBaseVariables(instance, auth, [], partsFor(withKeys));

// The configuration repo's public defaults for the names Ocim generates (roles/*/defaults/main.yml):
// what an appserver would run with if a name were misspelt or left out.
const PUBLIC_DEFAULTS = [
  "password", "secret", "changeme", "DUMMY KEY CHANGE BEFORE GOING TO PRODUCTION", "SET-ME-PLEASE", "lms-secret", "lms-key",
  "ecommerce-sso-key", "ecommerce-sso-secret", "ecommerce-backend-service-key", "ecommerce-backend-service-secret",
  "discovery-sso-key", "discovery-sso-secret", "discovery-backend-service-key", "discovery-backend-service-secret",
  "credentials-sso-key", "credentials-sso-secret", "credentials-backend-service-key", "credentials-backend-service-secret",
  "insights-sso-key", "insights-sso-secret", "studio-sso-key", "studio-sso-secret", "insecure-secret-key", "edxapp", "edxapp001",
  "ecomm001", "discov001", "credentials001", "xqueue", "xqueue001", "notes", "notes001", "celery", "forum", "edx",
  "CHANGEME", "notes-secret-key", "xqueuepass", "ecommerce_worker", "edxapp_csmh", "fernet_key", "thisisaverybadsecretkey",
];
// Not a secret: the Django user the LMS logs in to xqueue as keeps Open edX's name ("lms").
const XQUEUE_LMS_USER = "lms";

function leaves(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (value && typeof value === "object") return Object.values(value).flatMap(leaves);
  return typeof value === "string" ? [value] : [];
}

describe("an instance's secrets and data services in the playbook variables", () => {
  it("only generates names that the Open edX configuration defines, with every part set", () => {
    const names = Object.keys(full);
    expect(names.filter((n) => !KNOWN.has(n))).toEqual([]);
    for (const name of ["EDXAPP_MYSQL_HOST", "EDXAPP_MONGO_HOSTS", "EDXAPP_AWS_STORAGE_BUCKET_NAME", "EDXAPP_JWT_PRIVATE_SIGNING_JWK", "EDXAPP_FERNET_KEYS", "ECOMMERCE_SOCIAL_AUTH_EDX_OAUTH2_SECRET"]) {
      expect(names, name).toContain(name);
    }
  });

  it("names each appserver's own VM, not the LMS domain", () => {
    expect(full.COMMON_HOSTNAME).toBe("demo-u-as3");
  });

  it("gives every appserver of an instance the same secrets, and another instance other ones", async () => {
    const again = generateBaseVariables(instance, auth, [], { ...partsFor(withKeys), hostname: "demo-u-as4" });
    expect({ ...again, COMMON_HOSTNAME: null }).toEqual({ ...full, COMMON_HOSTNAME: null });
    const other = instanceSecretVariables(secrets, { secretKeyEncrypted: newInstanceSecret(secrets), jwtKeyEncrypted: await newJwtKey(secrets) });
    const mine = instanceSecretVariables(secrets, keys);
    const same = Object.keys(mine).filter((k) => JSON.stringify(mine[k]) === JSON.stringify(other[k]));
    expect(same.sort()).toEqual(["CONFIGURE_JWTS", "EDXAPP_JWT_SIGNING_ALGORITHM"]);
  });

  it("never sends one of the configuration's public defaults, and each secret is its own", () => {
    const values = leaves(instanceSecretVariables(secrets, keys)).filter((v) => v !== XQUEUE_LMS_USER);
    expect(values.filter((v) => PUBLIC_DEFAULTS.some((d) => v.toLowerCase() === d.toLowerCase()))).toEqual([]);
    expect(values.filter((v) => /dummy|change|set-me/i.test(v))).toEqual([]);
    const vars = instanceSecretVariables(secrets, keys);
    // Shared on purpose: both ends of one key (the JWT HMAC key, the API keys, xqueue's credentials).
    const secretsOnly = ["EDXAPP_EDXAPP_SECRET_KEY", "ECOMMERCE_SECRET_KEY", "DISCOVERY_SECRET_KEY", "CREDENTIALS_SECRET_KEY", "EDX_NOTES_API_SECRET_KEY",
      "EDXAPP_JWT_SECRET_KEY", "EDXAPP_EDX_API_KEY", "FORUM_API_KEY", "ECOMMERCE_SOCIAL_AUTH_EDX_OAUTH2_SECRET", "ECOMMERCE_BACKEND_SERVICE_EDX_OAUTH2_SECRET",
      "DISCOVERY_SOCIAL_AUTH_EDX_OAUTH2_SECRET", "CREDENTIALS_BACKEND_SERVICE_EDX_OAUTH2_SECRET", "XQUEUE_BASIC_AUTH_PASSWORD", "COMMON_XQUEUE_LMS_PASSWORD",
      "REDIS_PASSWORD"].map((n) => vars[n]);
    expect(new Set(secretsOnly).size).toBe(secretsOnly.length);
    // The VM's Redis asks a password (the redis role writes requirepass only when REDIS_PASSWORD is
    // set), and the LMS's Celery broker and single-beat log in with it; hex, so safe in a broker URL.
    expect(vars.REDIS_PASSWORD).toMatch(/^[0-9a-f]{32}$/);
    expect(vars.EDXAPP_CELERY_PASSWORD).toBe(vars.REDIS_PASSWORD);
    expect(vars.COMMON_JWT_SECRET_KEY).toBe(vars.EDXAPP_JWT_SECRET_KEY);
    expect(vars.EDXAPP_XQUEUE_BASIC_AUTH).toEqual([vars.XQUEUE_BASIC_AUTH_USER, vars.XQUEUE_BASIC_AUTH_PASSWORD]);
  });

  it("sends valid Fernet keys and an RS512 key pair whose public set verifies what the private key signs", () => {
    const fernet = full.EDXAPP_FERNET_KEYS as string[];
    expect(fernet).toHaveLength(1);
    expect(fernet[0]).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(Buffer.from(fernet[0]!, "base64url")).toHaveLength(32);
    expect(full.EDXAPP_JWT_SIGNING_ALGORITHM).toBe("RS512");
    // openedx_native.yml turns CONFIGURE_JWTS on: each appserver would then write a key of its own
    // over this one, and tokens one appserver signs would fail on the next.
    expect(full.CONFIGURE_JWTS).toBe(false);
    const jwk = JSON.parse(full.EDXAPP_JWT_PRIVATE_SIGNING_JWK as string) as Record<string, string>;
    const set = JSON.parse(full.EDXAPP_JWT_PUBLIC_SIGNING_JWK_SET as string) as { keys: Record<string, string>[] };
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]!.kid).toBe(jwk.kid);
    expect(set.keys[0]!.d).toBeUndefined();
    const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
    expect(privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const signature = sign("sha512", Buffer.from("header.payload"), privateKey);
    expect(verify("sha512", Buffer.from("header.payload"), createPublicKey({ key: set.keys[0]!, format: "jwk" }), signature)).toBe(true);
  });

  it("points MySQL, MongoDB and storage at the shared services with the plan's names and passwords", () => {
    const plan = instanceDataPlan(secrets, withKeys, []);
    const edxapp = plan.mysql.users.find((u) => u.role === "edxapp")!;
    expect(full).toMatchObject({
      EDXAPP_MYSQL_HOST: "mysql.internal.test", EDXAPP_MYSQL_PORT: 3307, EDXAPP_MYSQL_DB_NAME: "demo_u_edxapp",
      EDXAPP_MYSQL_USER: edxapp.name, EDXAPP_MYSQL_PASSWORD: edxapp.password, EDXAPP_MYSQL_CSMH_DB_NAME: "demo_u_edxapp_csmh",
      ECOMMERCE_DATABASE_NAME: "demo_u_ecommerce", DISCOVERY_DEFAULT_DB_NAME: "demo_u_discovery", XQUEUE_MYSQL_DB_NAME: "demo_u_xqueue",
      EDX_NOTES_API_MYSQL_DB_NAME: "demo_u_notes", CREDENTIALS_DEFAULT_DB_NAME: "demo_u_credentials",
      EDXAPP_MONGO_HOSTS: ["mongo.internal.test"], EDXAPP_MONGO_PORT: 27018, EDXAPP_MONGO_DB_NAME: "demo_u_edxapp", EDXAPP_MONGO_USE_SSL: true,
      FORUM_MONGO_HOSTS: ["mongo.internal.test"], FORUM_MONGO_DATABASE: "demo_u_forum",
      EDXAPP_AWS_STORAGE_BUCKET_NAME: plan.storage.bucket, EDXAPP_AWS_ACCESS_KEY_ID: "OCIMSTORAGEKEYID0001",
      EDXAPP_AWS_S3_CUSTOM_DOMAIN: `minio.internal.test:9000/${plan.storage.bucket}`,
      EDXAPP_LMS_ENV_EXTRA: { AWS_S3_ENDPOINT_URL: "https://minio.internal.test:9000", AWS_S3_ADDRESSING_STYLE: "path", AWS_S3_REGION_NAME: "eu-west-1" },
    });
    // Every database user's password is the plan's, derived again rather than stored.
    const passwords = [...plan.mysql.users, ...plan.mongodb.users].map((u) => u.password);
    expect(passwords.filter((p) => !leaves(full).includes(p))).toEqual([]);
  });

  it("sets nothing of a kind the instance has no service for: the playbook keeps its local server", () => {
    const bare = generateBaseVariables(instance, auth, [], partsFor(withKeys, {}));
    expect(Object.keys(bare).filter((n) => /MYSQL|MONGO|DATABASE|DB_NAME|_AWS_|FILE_STORAGE/.test(n))).toEqual([]);
    const mysqlOnly = generateBaseVariables(instance, auth, [], partsFor(withKeys, { mysql: SERVICES.mysql }));
    expect(mysqlOnly.EDXAPP_MYSQL_HOST).toBe("mysql.internal.test");
    expect(Object.keys(mysqlOnly).filter((n) => /MONGO|_AWS_|FILE_STORAGE/.test(n))).toEqual([]);
  });

  it("masks every generated secret and derived password, whatever its name looks like", () => {
    const plan = instanceDataPlan(secrets, withKeys, []);
    const jwk = JSON.parse(full.EDXAPP_JWT_PRIVATE_SIGNING_JWK as string) as Record<string, string>;
    const hidden = [
      ...["EDXAPP_EDXAPP_SECRET_KEY", "EDXAPP_JWT_SECRET_KEY", "ECOMMERCE_BACKEND_SERVICE_EDX_OAUTH2_SECRET", "EDX_NOTES_API_CLIENT_SECRET",
        "EDXAPP_PROFILE_IMAGE_HASH_SEED", "COMMON_XQUEUE_LMS_PASSWORD", "XQUEUE_BASIC_AUTH_PASSWORD", "EDXAPP_AWS_SECRET_ACCESS_KEY"].map((n) => String(full[n])),
      ...(full.EDXAPP_FERNET_KEYS as string[]), ...(full.EDXAPP_RETIRED_USER_SALTS as string[]), jwk.d!, jwk.p!, jwk.q!, jwk.dp!, jwk.dq!, jwk.qi!,
      ...[...plan.mysql.users, ...plan.mongodb.users].map((u) => u.password),
    ];
    const shown = JSON.stringify(maskTree(full, createMasker(snapshotSecrets({ variables: full }))));
    expect(hidden.filter((s) => shown.includes(s))).toEqual([]);
    const masked = JSON.parse(shown) as Record<string, unknown>;
    expect(masked.XQUEUE_DJANGO_USERS).toEqual({ lms: MASK });
    expect(masked.EDXAPP_MYSQL_HOST).toBe("mysql.internal.test");
    expect(masked.EDXAPP_AWS_STORAGE_BUCKET_NAME).toBe(plan.storage.bucket);
  });
});
