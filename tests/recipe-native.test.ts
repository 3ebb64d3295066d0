// The native recipe's launch (recipes/native.ts): openedx/configuration's names only, every
// *_VERSION pinned to the release as util/install/native.sh pins them, the services Ocim does not
// run switched off, every host on port 80, and a refusal for releases after Quince.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecrets } from "../src/crypto.js";
import { AppError } from "../src/errors.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";
import { newInstanceSecret } from "../src/domain/instances/secret.js";
import { instanceSecretVariables, newJwtKey } from "../src/domain/data/instance-secrets.js";
import { instanceDataPlan } from "../src/domain/data/plan.js";
import { recipeLaunch, type RecipeInstance } from "../src/domain/recipes/recipe.js";
import { OPENEDX_RELEASES } from "../src/domain/recipes/releases.js";
import type { BaseParts } from "../src/domain/provisioning/variables.js";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { readSnapshot } from "../src/domain/appservers/config-snapshot.js";

const KNOWN = new Set(
  readFileSync(path.resolve("data/openedx-configuration-vars.tsv"), "utf8")
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split("\t")[0]),
);

const secrets = createSecrets(TEST_SECRET_KEY);
const keys = { slug: "native-u", secretKeyEncrypted: newInstanceSecret(secrets), jwtKeyEncrypted: await newJwtKey(secrets) };

function nativeInstance(over: Partial<RecipeInstance> = {}): RecipeInstance {
  return {
    name: "Native U", internalLmsDomain: "courses.example.org", ...derivePrefixedDomains("courses.example.org"),
    edxPlatformRepoUrl: "https://github.com/openedx/edx-platform.git", edxPlatformBranch: "master",
    configurationRepoUrl: "https://github.com/openedx/configuration.git", configurationBranch: "master",
    playbookPath: "", bootstrapCommand: "", extraAnsibleVars: "", recipe: "native", openedxRelease: "quince", tutorPlugins: [],
    ...over,
  };
}

/** Every part a launch can add: the instance's secrets and all three shared data services. */
const parts: BaseParts = {
  hostname: "native-u-as1",
  secrets: instanceSecretVariables(secrets, keys),
  data: {
    plan: instanceDataPlan(secrets, keys, []),
    services: {
      mysql: { host: "mysql.internal.test", port: 3306, tls: false },
      mongodb: { host: "mongo.internal.test", port: 27017, tls: false },
      storage: { endpoint: "", region: "eu-west-1", forcePathStyle: false, accessKeyId: "AKIAEXAMPLE", secretAccessKey: "storage-secret" },
    },
  },
};

function launch(over: Partial<RecipeInstance> = {}) {
  return recipeLaunch({ instance: nativeInstance(over), auth: { user: "u", password: "p4ss-secret" }, sshUsers: [{ githubLogin: "kim", keys: ["ssh-ed25519 AAAA kim"] }], parts });
}

const NATIVE = ["maple", "nutmeg", "olive", "palm", "quince"];
// util/install/native.sh's VERSION_VARS, identical on every branch from Maple to Quince.
const VERSION_VARS = [
  "EDX_PLATFORM_VERSION", "FORUM_VERSION", "XQUEUE_VERSION", "CONFIGURATION_VERSION", "DEMO_VERSION", "INSIGHTS_VERSION",
  "ANALYTICS_API_VERSION", "ECOMMERCE_VERSION", "ECOMMERCE_WORKER_VERSION", "DISCOVERY_VERSION", "THEMES_VERSION",
  "MFE_DEPLOY_VERSION", "RETIREMENT_SERVICE_VERSION",
];

describe("the native recipe", () => {
  it("knows exactly the releases openedx/configuration has a branch for (the last is open-release/quince.master)", () => {
    expect(OPENEDX_RELEASES.filter((r) => r.configurationBranch).map((r) => [r.name, r.configurationBranch])).toEqual(NATIVE.map((n) => [n, `open-release/${n}.master`]));
  });

  it.each(NATIVE)("only sends names openedx/configuration defines (%s, every part set)", (release) => {
    const names = Object.keys(launch({ openedxRelease: release }).variables);
    expect(names.filter((n) => !KNOWN.has(n))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining([...VERSION_VARS, "EDXAPP_MYSQL_HOST", "CMS_HOSTNAME", "NGINX_SET_X_FORWARDED_HEADERS"]));
  });

  it.each(NATIVE)("pins every *_VERSION of the native installer to open-release/%s.master", (release) => {
    const { variables, playbook } = launch({ openedxRelease: release });
    const pin = `open-release/${release}.master`;
    expect(Object.fromEntries(VERSION_VARS.map((n) => [n, variables[n]]))).toEqual(Object.fromEntries(VERSION_VARS.map((n) => [n, pin])));
    expect(playbook).toMatchObject({ repoUrl: "https://github.com/openedx/configuration.git", branch: pin, path: "playbooks/openedx_native.yml", sudo: true });
    expect(variables.edx_platform_repo).toBe("https://github.com/openedx/edx-platform.git");
  });

  it("keeps the instance's edx-platform fork and branch, and its configuration fork and branch", () => {
    const { variables, playbook } = launch({
      edxPlatformRepoUrl: "https://github.com/uni/edx-platform.git", edxPlatformBranch: "uni/quince",
      configurationRepoUrl: "https://github.com/uni/configuration.git", configurationBranch: "uni/quince-config", openedxRelease: "Quince",
    });
    expect([variables.edx_platform_repo, variables.EDX_PLATFORM_VERSION, variables.CONFIGURATION_VERSION, variables.FORUM_VERSION])
      .toEqual(["https://github.com/uni/edx-platform.git", "uni/quince", "uni/quince-config", "open-release/quince.master"]);
    expect([playbook.repoUrl, playbook.branch]).toEqual(["https://github.com/uni/configuration.git", "uni/quince-config"]);
    // A blank branch is the release's too.
    expect(launch({ edxPlatformBranch: " ", configurationBranch: "" }).playbook.branch).toBe("open-release/quince.master");
  });

  it("switches off the services an instance does not run, serves every host on port 80, and leaves X-Forwarded-* to the balancer", () => {
    const v = launch().variables;
    expect(v).toMatchObject({
      SANDBOX_ENABLE_ECOMMERCE: false, SANDBOX_ENABLE_DISCOVERY: false, SANDBOX_ENABLE_ANALYTICS_API: false, SANDBOX_ENABLE_INSIGHTS: false,
      SANDBOX_ENABLE_NOTES: false, SANDBOX_ENABLE_BLOCKSTORE: false,
      EDXAPP_LMS_BASE: "courses.example.org", EDXAPP_LMS_NGINX_PORT: 80,
      EDXAPP_CMS_BASE: "studio.courses.example.org", EDXAPP_CMS_NGINX_PORT: 80, CMS_HOSTNAME: "studio.courses.example.org",
      MFE_BASE: "apps.courses.example.org", MFE_DEPLOY_COMMON_HOSTNAME: "apps.courses.example.org", MFE_DEPLOY_NGINX_PORT: 80,
      EDXAPP_LMS_BASE_SCHEME: "https", NGINX_SET_X_FORWARDED_HEADERS: false,
    });
    expect(v.SANDBOX_ENABLE_REDIS).toBeUndefined();
    // The MFEs on their own host read the LMS's cookies, and post to it with a trusted origin.
    expect(v).toMatchObject({
      EDXAPP_SESSION_COOKIE_DOMAIN: ".courses.example.org", EDXAPP_CROSS_DOMAIN_CSRF_COOKIE_DOMAIN: ".courses.example.org",
      EDXAPP_SESSION_COOKIE_SECURE: true, EDXAPP_CSRF_COOKIE_SECURE: true,
      EDXAPP_PROFILE_MICROFRONTEND_URL: "https://apps.courses.example.org/profile/u/",
      EDXAPP_ENV_EXTRA: { CSRF_TRUSTED_ORIGINS_WITH_SCHEME: ["https://apps.courses.example.org", "https://studio.courses.example.org"] },
    });
  });

  it("lets the instance's extra variables turn a service back on", () => {
    expect(launch({ extraAnsibleVars: "SANDBOX_ENABLE_ECOMMERCE: true\n" }).variables.SANDBOX_ENABLE_ECOMMERCE).toBe(true);
  });

  it("bootstraps as the native installer does, with the release's pins, unless the instance has its own bootstrap", () => {
    const quince = launch().playbook.bootstrapCommand;
    expect(quince).toContain('if [ "$release" != 20.04 ]');
    expect(quince).toContain("sudo -H pip3 install --upgrade pip==21.2.1 &&");
    expect(quince).toContain("sudo -H pip3 install --upgrade setuptools==44.1.0 &&");
    expect(quince).toContain("sudo -H pip3 install --upgrade virtualenv==20.2.0 &&");
    expect(launch({ openedxRelease: "maple" }).playbook.bootstrapCommand).toContain("pip==20.3.4");
    expect(launch({ bootstrapCommand: "pip3 install ansible==2.10.7\n" }).playbook.bootstrapCommand).toBe("pip3 install ansible==2.10.7\n");
  });

  it.each([
    // The same words as the admin form's (recipe-release.ts): what saves also launches.
    ["redwood", "openedx/configuration stops at quince (the repository is archived): for redwood, use the tutor recipe, or choose one of maple, nutmeg, olive, palm, quince."],
    ["ulmo", "openedx/configuration stops at quince (the repository is archived): for ulmo, use the tutor recipe, or choose one of maple, nutmeg, olive, palm, quince."],
    ["master", "The native recipe installs a release up to quince: choose one of maple, nutmeg, olive, palm, quince (later releases: the tutor recipe)."],
  ])("refuses to launch %s, saying which recipe to pick", (release, message) => {
    let error: unknown;
    try {
      launch({ openedxRelease: release });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: "rule", message });
  });
});

describe("launching a native instance", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(async () => {
    await deps?.close();
  });
  const actor = { id: null, login: "tester" };

  it("refuses a release after Quince with the recipe to pick, and creates nothing", async () => {
    const instance = await makeInstance(deps, { recipe: "native", openedxRelease: "redwood" });
    await expect(launchAppServer(deps, { instanceId: instance.id, actor })).rejects.toMatchObject({
      code: "rule", message: expect.stringContaining("for redwood, use the tutor recipe"),
    });
    expect(await deps.db.appServer.count({ where: { instanceId: instance.id } })).toBe(0);
  });

  it("freezes the release's branch, the native bootstrap and sudo into the appserver", async () => {
    const instance = await makeInstance(deps, { recipe: "native", openedxRelease: "palm", bootstrapCommand: "" });
    const as = await launchAppServer(deps, { instanceId: instance.id, actor });
    const snapshot = readSnapshot(as.configSnapshot);
    expect(snapshot.recipe).toBe("native");
    expect(snapshot.playbook).toMatchObject({ branch: "open-release/palm.master", path: "playbooks/openedx_native.yml", sudo: true });
    expect(snapshot.playbook.bootstrapCommand).toContain("pip==21.2.1");
    expect(snapshot.variables).toMatchObject({ EDX_PLATFORM_VERSION: "open-release/palm.master", FORUM_VERSION: "open-release/palm.master" });
  });
});
