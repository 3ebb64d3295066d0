// The tutor recipe's variables: every name under TUTOR_CONFIG is a Tutor setting (Tutor 21's own,
// data/tutor-config-keys.tsv, or a setting of a plugin the recipe enables), the OCIM_* names are
// exactly those its playbook reads, the values are the instance's, and a launch plans the same
// secrets for every appserver of an instance.
import { createPublicKey } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../src/errors.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { newJwtKey, signingJwks } from "../src/domain/data/instance-secrets.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { planLaunch } from "../src/domain/recipes/plan-launch.js";
import { recipeLaunch, type RecipeInput } from "../src/domain/recipes/recipe.js";
import { S3_PLUGIN, TUTOR_PLAYBOOK_VARIABLES, tutorRecipe } from "../src/domain/recipes/tutor.js";
import type { DataEndpoints } from "../src/domain/provisioning/data-variables.js";

/**
 * The settings of the plugins the recipe enables, as each plugin's source defines them:
 *  - mfe: overhangio/tutor-mfe tutormfe/plugin.py at 2e30801e0cf823dbaf8dbad697ed3e2faf2299b9
 *    (v21.0.0): `config["defaults"]`, each prefixed MFE_;
 *  - s3: hastexo/tutor-contrib-s3 tutors3/plugin.py at bd89a3e7683a85778b9f206485ec7d09f03ace4a
 *    (v2.3.1): `config["defaults"]`, each prefixed S3_.
 *  - ocim: Ocim's own plugin (playbooks/tutor/templates/ocim.py.j2) defines no settings.
 */
const PLUGIN_SETTINGS: Record<string, string[]> = {
  mfe: ["VERSION", "DOCKER_IMAGE", "DOCKER_IMAGE_DEV_PREFIX", "HOST", "COMMON_VERSION", "CADDY_DOCKER_IMAGE", "HOST_EXTRA_FILES"].map((k) => `MFE_${k}`),
  s3: ["VERSION", "HOST", "PORT", "REGION", "USE_SSL", "STORAGE_BUCKET", "FILE_UPLOAD_BUCKET", "PROFILE_IMAGE_BUCKET", "GRADE_BUCKET",
    "PROFILE_IMAGE_CUSTOM_DOMAIN", "PROFILE_IMAGE_MAX_AGE", "ADDRESSING_STYLE", "SIGNATURE_VERSION", "CUSTOM_DOMAIN", "DEFAULT_ACL",
    "REQUEST_CHECKSUM_CALCULATION"].map((k) => `S3_${k}`),
  ocim: [],
};

const TUTOR_KEYS = new Set(readFileSync("data/tutor-config-keys.tsv", "utf8").split("\n").slice(1).map((l) => l.split("\t")[0]!).filter(Boolean));

/** What the playbook reads: OCIM_* names in site.yml and its templates, except environment variables (quoted in env lookups). */
function playbookOcimNames(): string[] {
  const dir = "playbooks/tutor";
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".yml") || f.endsWith(".j2"));
  const names = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(path.join(dir, f), "utf8").matchAll(/(?<!['"])\bOCIM_[A-Z0-9_]+\b/g)) names.add(m[0]);
  }
  return [...names].sort();
}

const AUTH = { user: "u5er", password: "pa55 word" };

function input(over: Partial<RecipeInput["instance"]> = {}, data?: { services: DataEndpoints }): RecipeInput {
  const instance = {
    recipe: "tutor" as const, name: "Campus <Online>", internalLmsDomain: "lms.campus.test", studioDomain: "studio.lms.campus.test",
    previewDomain: "preview.lms.campus.test", ecommerceDomain: "ecommerce.lms.campus.test", discoveryDomain: "discovery.lms.campus.test",
    appsDomain: "apps.lms.campus.test", edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git", edxPlatformBranch: "release/ulmo",
    configurationBranch: "", configurationRepoUrl: "", playbookPath: "", bootstrapCommand: "", extraAnsibleVars: "",
    openedxRelease: "ulmo", tutorPlugins: ["forum", "indigo"], ...over,
  };
  const plan = {
    owner: "campus",
    mysql: { databases: [{ name: "campus_edxapp", role: "edxapp" }], users: [{ name: "campus_1a2b3c_edxapp", role: "edxapp", password: "mysql-pass", databases: ["campus_edxapp"] }] },
    mongodb: { databases: [{ name: "campus_edxapp", role: "edxapp" }], users: [{ name: "campus_1a2b3c_edxapp", role: "edxapp", password: "mongo-pass", database: "campus_edxapp" }] },
    storage: { bucket: "ocim-campus-0badcafe", corsOrigins: [] },
  };
  return {
    instance, auth: AUTH, sshUsers: [{ githubLogin: "alice", keys: ["ssh-ed25519 AAAAC3Nza alice"] }],
    parts: { hostname: "campus-as3", tutorSecrets: { OPENEDX_SECRET_KEY: "s3cret" }, data: data ? { plan, services: data.services } : undefined },
  };
}

const EVERYTHING: DataEndpoints = {
  mysql: { host: "mysql.campus.test", port: 3307, tls: false },
  mongodb: { host: "mongo.campus.test", port: 27018, tls: true },
  storage: { endpoint: "https://minio.campus.test:9000", region: "eu-west-1", forcePathStyle: true, accessKeyId: "AKID", secretAccessKey: "SECRET" },
};

describe("tutor recipe variables", () => {
  it("uses only Tutor's settings and those of the plugins it enables under TUTOR_CONFIG", () => {
    const vars = tutorRecipe.baseVariables(input({ openedxRelease: "teak", edxPlatformRepoUrl: "https://github.com/campus/edx-platform.git", edxPlatformBranch: "campus/teak" }, { services: EVERYTHING }));
    const config = vars.TUTOR_CONFIG as Record<string, unknown>;
    const enabled = config.PLUGINS as string[];
    expect(enabled).toEqual(["mfe", "forum", "indigo", "s3", "ocim"]);
    const known = new Set([...TUTOR_KEYS, ...enabled.flatMap((p) => PLUGIN_SETTINGS[p] ?? [])]);
    const unknown = Object.keys(config).filter((k) => !known.has(k));
    expect(unknown).toEqual([]);
    // Every plugin the test checks names with has its settings listed above (forum and indigo get none from Ocim).
    expect(Object.keys(config).filter((k) => /^(MFE|S3|FORUM|INDIGO)_/.test(k)).every((k) => known.has(k))).toBe(true);
  });

  it("sends exactly the OCIM_* variables the playbook reads, and nothing else beside TUTOR_CONFIG", () => {
    const vars = tutorRecipe.baseVariables(input({ openedxRelease: "teak", edxPlatformBranch: "campus" }, { services: EVERYTHING }));
    const sent = Object.keys(vars).filter((k) => k !== "TUTOR_CONFIG").sort();
    expect(sent).toEqual(playbookOcimNames());
    // The names the admin lets the extra variables set (recipe-variables.ts) are exactly these.
    expect([...TUTOR_PLAYBOOK_VARIABLES].sort()).toEqual(Object.keys(vars).sort());
  });

  it("fills in the instance's hosts, HTTPS behind the balancer, the Tutor version and the plugins", () => {
    const vars = tutorRecipe.baseVariables(input());
    expect(vars.TUTOR_CONFIG).toEqual({
      LMS_HOST: "lms.campus.test", CMS_HOST: "studio.lms.campus.test", MFE_HOST: "apps.lms.campus.test",
      PLATFORM_NAME: "Campus <Online>", CONTACT_EMAIL: "contact@lms.campus.test",
      ENABLE_HTTPS: true, ENABLE_WEB_PROXY: false, CADDY_HTTP_PORT: 80,
      OPENEDX_SECRET_KEY: "s3cret",
      PLUGINS: ["mfe", "forum", "indigo", "ocim"],
    });
    expect(vars).toMatchObject({
      OCIM_TUTOR_REQUIREMENT: "tutor[full]>=21.0.0,<22.0.0", OCIM_TUTOR_MAJOR: 21, OCIM_TUTOR_PLUGINS: ["mfe", "forum", "indigo", "ocim"],
      OCIM_TUTOR_PIP_PLUGINS: [], OCIM_TUTOR_BUILD_IMAGE: false, OCIM_BASIC_AUTH_USER: "u5er", OCIM_BASIC_AUTH_PASSWORD: "pa55 word",
      OCIM_SSH_USERS: [{ name: "alice", keys: ["ssh-ed25519 AAAAC3Nza alice"] }], OCIM_HOSTNAME: "campus-as3",
    });
    expect(vars.OCIM_BASIC_AUTH_SALT).toMatch(/^[0-9a-f]{21}e$/);
  });

  it("points Tutor at the instance's MySQL and MongoDB with its own user (never the service's admin), and at S3 through tutor-contrib-s3", () => {
    const vars = tutorRecipe.baseVariables(input({ openedxRelease: "teak", tutorPlugins: ["notes=tutor-notes>=20,<21"] }, { services: EVERYTHING }));
    expect(vars.TUTOR_CONFIG).toMatchObject({
      RUN_MYSQL: false, MYSQL_HOST: "mysql.campus.test", MYSQL_PORT: 3307,
      MYSQL_ROOT_USERNAME: "campus_1a2b3c_edxapp", MYSQL_ROOT_PASSWORD: "mysql-pass",
      OPENEDX_MYSQL_DATABASE: "campus_edxapp", OPENEDX_MYSQL_USERNAME: "campus_1a2b3c_edxapp", OPENEDX_MYSQL_PASSWORD: "mysql-pass",
      RUN_MONGODB: false, MONGODB_HOST: "mongo.campus.test", MONGODB_PORT: 27018, MONGODB_DATABASE: "campus_edxapp",
      MONGODB_USERNAME: "campus_1a2b3c_edxapp", MONGODB_PASSWORD: "mongo-pass", MONGODB_AUTH_SOURCE: "campus_edxapp", MONGODB_USE_SSL: true,
      OPENEDX_AWS_ACCESS_KEY: "AKID", OPENEDX_AWS_SECRET_ACCESS_KEY: "SECRET", S3_STORAGE_BUCKET: "ocim-campus-0badcafe", S3_REGION: "eu-west-1",
      S3_HOST: "minio.campus.test", S3_PORT: "9000", S3_USE_SSL: true, S3_ADDRESSING_STYLE: "path",
      PLUGINS: ["mfe", "notes", "s3", "ocim"],
    });
    expect(vars.OCIM_TUTOR_PIP_PLUGINS).toEqual(["tutor-notes>=20,<21", "git+https://github.com/hastexo/tutor-contrib-s3@v2.3.1"]);
  });

  it("leaves Tutor its own MySQL and MongoDB on the VM when the instance has no such service", () => {
    const config = tutorRecipe.baseVariables(input()).TUTOR_CONFIG as Record<string, unknown>;
    expect(Object.keys(config).filter((k) => /^(RUN_|MYSQL_|MONGODB_|S3_)/.test(k))).toEqual([]);
  });

  it("on AWS S3 leaves S3_HOST and S3_PORT unset, as tutor-contrib-s3's README asks, and never sets S3_CUSTOM_DOMAIN (unsigned URLs)", () => {
    const storage = { endpoint: "", region: "us-east-1", forcePathStyle: false, accessKeyId: "A", secretAccessKey: "S" };
    const config = tutorRecipe.baseVariables(input({ openedxRelease: "redwood" }, { services: { storage } })).TUTOR_CONFIG as Record<string, unknown>;
    expect(Object.keys(config).filter((k) => k.startsWith("S3_"))).toEqual(["S3_STORAGE_BUCKET", "S3_REGION"]);
    const minio = tutorRecipe.baseVariables(input({ openedxRelease: "teak" }, { services: EVERYTHING })).TUTOR_CONFIG as Record<string, unknown>;
    expect(minio).not.toHaveProperty("S3_CUSTOM_DOMAIN");
  });

  it("builds a fork of edx-platform under an image name of the instance's own, and the release's own platform from Tutor's image", () => {
    const fork = tutorRecipe.baseVariables(input({ edxPlatformRepoUrl: "https://github.com/campus/edx-platform.git", edxPlatformBranch: "campus/ulmo" }));
    expect(fork.TUTOR_CONFIG).toMatchObject({ EDX_PLATFORM_REPOSITORY: "https://github.com/campus/edx-platform.git", EDX_PLATFORM_VERSION: "campus/ulmo", DOCKER_IMAGE_OPENEDX: "ocim/openedx:lms.campus.test" });
    expect(fork.OCIM_TUTOR_BUILD_IMAGE).toBe(true);
    // Upstream at another branch than the release's is built too (Tutor would otherwise pull its release image).
    expect(tutorRecipe.baseVariables(input({ edxPlatformBranch: "feature/campus" })).TUTOR_CONFIG).toMatchObject({ EDX_PLATFORM_VERSION: "feature/campus" });
    // "" and "master" mean the release's own, as in the native recipe.
    for (const branch of ["release/ulmo", "", "master"]) {
      const own = tutorRecipe.baseVariables(input({ edxPlatformRepoUrl: "https://github.com/openedx/edx-platform", edxPlatformBranch: branch }));
      expect(Object.keys(own.TUTOR_CONFIG as object)).not.toContain("EDX_PLATFORM_REPOSITORY");
      expect(own.OCIM_TUTOR_BUILD_IMAGE).toBe(false);
    }
  });

  it("refuses a release it cannot install, naming the ones it can", () => {
    const refusal = (over: Partial<RecipeInput["instance"]>, data?: { services: DataEndpoints }) => {
      try {
        tutorRecipe.baseVariables(input(over, data));
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe("rule");
        return (err as AppError).message;
      }
      throw new Error("no refusal");
    };
    // The same words as the admin form's (recipe-release.ts): what saves also launches.
    expect(refusal({ openedxRelease: "master" })).toBe("The tutor recipe installs a named Open edX release: choose one of quince, redwood, sumac, teak, ulmo.");
    expect(refusal({ openedxRelease: "palm" })).toBe("The tutor recipe installs quince and later (Tutor 17+): for palm, use the native recipe, or choose one of quince, redwood, sumac, teak, ulmo.");
    expect(refusal({}, { services: { storage: EVERYTHING.storage } })).toContain("no release of tutor-contrib-s3 (the Tutor plugin for S3 storage) supports Tutor 21 (ulmo) yet. Pick an earlier release (quince, redwood, sumac, teak)");
    expect(Object.keys(S3_PLUGIN).map(Number)).toEqual([17, 18, 19, 20]);
  });

  it("runs the shipped playbook under sudo after installing Ubuntu's ansible when it is missing, and lets extra TUTOR_CONFIG override", () => {
    const plan = recipeLaunch({ ...input(), instance: { ...input().instance, extraAnsibleVars: "TUTOR_CONFIG:\n  PLATFORM_NAME: Renamed\n  LANGUAGE_CODE: fr\n" } });
    expect(plan.playbook).toEqual({ repoUrl: "", branch: "", shipped: "tutor", path: "site.yml", sudo: true, bootstrapCommand: expect.stringContaining("command -v ansible-playbook >/dev/null 2>&1 || {") });
    expect(plan.playbook.bootstrapCommand).toContain("apt-get install -y -q ansible-core");
    expect(plan.variables.TUTOR_CONFIG).toMatchObject({ PLATFORM_NAME: "Renamed", LANGUAGE_CODE: "fr", LMS_HOST: "lms.campus.test" });
  });
});

describe("tutor recipe launch plan", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(() => deps?.close());

  it("gives every appserver of an instance the same Tutor secrets and data login, and another instance other ones", async () => {
    const mysql = await deps.db.dataService.create({ data: { name: "MySQL", kind: "mysql", settings: { host: "mysql.campus.test", port: 3306 } } });
    const make = async () => makeInstance(deps, { recipe: "tutor", openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo", mysqlServiceId: mysql.id, jwtKeyEncrypted: await newJwtKey(deps.secrets) });
    const [one, other] = [await make(), await make()];
    const plan = (instance: typeof one, n: number) => deps.db.$transaction((tx) => planLaunch(tx, deps, instance, n));
    const [as1, as2, elsewhere] = [await plan(one, 1), await plan(one, 2), await plan(other, 1)];
    const config = (p: typeof as1) => p.variables.TUTOR_CONFIG as Record<string, string>;
    const secretNames = ["OPENEDX_SECRET_KEY", "JWT_COMMON_SECRET_KEY", "CMS_OAUTH2_SECRET", "ID", "MEILISEARCH_MASTER_KEY", "MEILISEARCH_API_KEY_UID", "JWT_RSA_PRIVATE_KEY", "MYSQL_ROOT_PASSWORD", "OPENEDX_MYSQL_PASSWORD"];
    for (const name of secretNames) {
      expect(config(as1)[name], name).toBeTruthy();
      expect(config(as2)[name], name).toBe(config(as1)[name]);
      expect(config(elsewhere)[name], name).not.toBe(config(as1)[name]);
    }
    expect(as1.variables.OCIM_HOSTNAME).toBe(`${one.slug}-as1`);
    expect(as2.variables.OCIM_HOSTNAME).toBe(`${one.slug}-as2`);
    // The data login is the plan's edxapp user (what prepare-data created), not the service's admin.
    const edxapp = instanceDataPlan(deps.secrets, one, []).mysql.users.find((u) => u.role === "edxapp")!;
    expect(config(as1)).toMatchObject({ RUN_MYSQL: false, MYSQL_ROOT_USERNAME: edxapp.name, OPENEDX_MYSQL_PASSWORD: edxapp.password });
    expect(config(as1).MEILISEARCH_API_KEY_UID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    // Tutor's format (PKCS#1) of the very key the configuration recipes publish.
    const pem = config(as1).JWT_RSA_PRIVATE_KEY!;
    expect(pem.startsWith("-----BEGIN RSA PRIVATE KEY-----\n")).toBe(true);
    const published = JSON.parse(signingJwks(deps.secrets, one.jwtKeyEncrypted).publicJwkSet) as { keys: { n: string }[] };
    expect(createPublicKey(pem).export({ format: "jwk" }).n).toBe(published.keys[0]!.n);
  });
});

// What the site's scheme is at launch (servedOverHttps): the appserver builds its URLs and cookies
// from it, and Tutor's lms/production.py makes cookies secure only with ENABLE_HTTPS, so an
// appserver told HTTPS behind a balancer that answers plain HTTP could not log anyone in.
describe("a launch's HTTPS, from the instance's balancer and certificate", () => {
  let deps: TestDeps;
  let withAcme: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
    withAcme = await createTestDeps({ ACME_DIRECTORY_URL: "https://acme.example.test/dir" });
  });
  afterAll(async () => {
    await deps?.close();
    await withAcme?.close();
  });

  /** The scheme-bearing variables of a launch of a new instance of `recipe` set up by `setup`. */
  async function launched(d: TestDeps, recipe: "tutor" | "native", setup: { balancer?: "local" | "ssh" | "ssh-https"; certificate?: boolean }) {
    const lb = setup.balancer && await d.db.loadBalancer.create({ data: {
      name: `lb-${Math.random().toString(36).slice(2, 8)}`, kind: setup.balancer === "local" ? "local" : "ssh", host: setup.balancer === "local" ? "" : "lb.campus.test",
      httpsBind: setup.balancer === "ssh-https" ? "*:443" : "", configPath: "/x", mapPath: "/y", reloadCommand: "true", fragmentName: `f-${Math.random().toString(36).slice(2, 8)}`,
    } });
    const release = recipe === "tutor" ? { openedxRelease: "ulmo", edxPlatformBranch: "release/ulmo" } : { openedxRelease: "quince", edxPlatformBranch: "open-release/quince.master" };
    const instance = await makeInstance(d, { recipe, ...release, loadBalancerId: lb ? lb.id : null, jwtKeyEncrypted: await newJwtKey(d.secrets) });
    if (setup.certificate) await d.db.instanceCertificate.create({ data: { instanceId: instance.id, certificatePem: "-----BEGIN CERTIFICATE-----" } });
    const { variables } = await d.db.$transaction((tx) => planLaunch(tx, d, instance, 1));
    // Tutor derives its URLs and cookies from ENABLE_HTTPS; openedx/configuration takes each.
    return recipe === "tutor"
      ? { https: (variables.TUTOR_CONFIG as Record<string, unknown>).ENABLE_HTTPS }
      : {
          https: variables.EDXAPP_LMS_BASE_SCHEME === "https", root: variables.EDXAPP_LMS_ROOT_URL, lms: instance.internalLmsDomain,
          secure: [variables.EDXAPP_SESSION_COOKIE_SECURE, variables.EDXAPP_CSRF_COOKIE_SECURE], apps: variables.EDXAPP_LMS_WRITABLE_GRADEBOOK_URL,
        };
  }

  it.each([
    ["no balancer (only the authenticated link reaches it): HTTP", "no ACME", {}, false],
    ["a local balancer without a certificate, and no ACME: HTTP", "no ACME", { balancer: "local" }, false],
    ["an ssh balancer without an HTTPS bind, even with a certificate: HTTP", "no ACME", { balancer: "ssh", certificate: true }, false],
    ["a local balancer with a certificate: HTTPS", "no ACME", { balancer: "local", certificate: true }, true],
    ["an ssh balancer with an HTTPS bind and a certificate: HTTPS", "no ACME", { balancer: "ssh-https", certificate: true }, true],
    ["a local balancer with ACME to issue its certificate: HTTPS", "ACME", { balancer: "local" }, true],
  ] as const)("behind %s", async (_what, acme, setup, https) => {
    const d = acme === "ACME" ? withAcme : deps;
    const tutor = await launched(d, "tutor", setup);
    expect(tutor.https).toBe(https);
    const native = await launched(d, "native", setup);
    const scheme = https ? "https" : "http";
    expect([native.https, native.root, native.secure, native.apps]).toEqual([https, `${scheme}://${native.lms}`, [https, https], `${scheme}://apps.${native.lms}/gradebook`]);
  });
});
