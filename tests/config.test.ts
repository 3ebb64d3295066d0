import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, SECRET_SETTINGS } from "../src/config.js";
import { isSecretKey } from "../src/domain/secrets/secret-keys.js";

/** The settings the schema in src/config.ts declares, in its order. */
function settingNames(): string[] {
  return [...readFileSync("src/config.ts", "utf8").matchAll(/^\s{2}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]!);
}

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("settings", () => {
  it("refuses a Node.js older than 24, saying how to run the one npm ci brought", () => {
    let refused: unknown;
    try {
      loadConfig({}, "20.20.2");
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).message).toMatch(/^Cannot start:\n  - Node\.js 20\.20\.2 is older than 24, which Ocim runs on: start it through npm \(npm start/);
    expect(loadConfig({}, "24.0.0").PORT).toBe(3000);
    // npm test runs on it too: the Node.js npm ci put in node_modules (package.json's optionalDependencies).
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(24);
  });

  it("runs on defaults alone", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.githubConfigured).toBe(false);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("defaults new instances to the tutor recipe and the newest release, with branches that exist", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      DEFAULT_RECIPE: "tutor", DEFAULT_OPENEDX_RELEASE: "ulmo", DEFAULT_EDX_PLATFORM_BRANCH: "release/ulmo",
      DEFAULT_CONFIGURATION_BRANCH: "open-release/quince.master",
    });
  });

  it("refuses a default release the default recipe cannot install, saying which would do", () => {
    expect(problems({ DEFAULT_RECIPE: "native" })).toEqual([
      'DEFAULT_OPENEDX_RELEASE: "ulmo" does not suit DEFAULT_RECIPE=native. openedx/configuration stops at quince (the repository is archived): for ulmo, use the tutor recipe, or choose one of maple, nutmeg, olive, palm, quince.',
    ]);
    expect(problems({ DEFAULT_RECIPE: "native", DEFAULT_OPENEDX_RELEASE: "quince" })).toEqual([]);
    expect(problems({ DEFAULT_OPENEDX_RELEASE: "master" })[0]).toContain("The tutor recipe installs a named Open edX release");
    expect(problems({ DEFAULT_RECIPE: "custom", DEFAULT_OPENEDX_RELEASE: "master" })).toEqual([]);
    expect(problems({ DEFAULT_RECIPE: "docker" })[0]).toMatch(/^DEFAULT_RECIPE: /);
  });

  it("lists every malformed setting by name", () => {
    const list = problems({ PORT: "http", DATABASE_URL: "mysql://x", ADMIN_GITHUB_LOGINS: "ok,bad login", LOG_LEVEL: "loud" });
    expect(list.map((p) => p.split(":")[0]).sort()).toEqual(["ADMIN_GITHUB_LOGINS", "DATABASE_URL", "LOG_LEVEL", "PORT"]);
  });

  it("says what was given and what each setting must be, in words", () => {
    expect(problems({ PORT: "abc" })).toEqual(['PORT: "abc" is not a number']);
    expect(problems({ REDIS_TIMEOUT_MS: "abc" })).toEqual(['REDIS_TIMEOUT_MS: "abc" is not a number']);
    expect(problems({ PORT: "-1" })).toEqual(["PORT: -1 is below 0"]);
    expect(problems({ PORT: "80.5" })).toEqual(['PORT: "80.5" is not a whole number']);
    expect(problems({ PORT: "70000" })).toEqual(["PORT: 70000 is above 65535"]);
    expect(problems({ SESSION_MAX_AGE_HOURS: "0" })).toEqual(["SESSION_MAX_AGE_HOURS: 0 is not above 0"]);
    expect(problems({ SECURE_COOKIES: "maybe" })).toEqual(['SECURE_COOKIES: "maybe" is not one of 0, 1, true, false, yes, no']);
    expect(problems({ PUBLIC_URL: "ftp://ocim.example.com" })).toEqual(['PUBLIC_URL: "ftp://ocim.example.com" is not an http(s) URL']);
    expect(problems({ ACME_EMAIL: "ops" })).toEqual(['ACME_EMAIL: "ops" is not an email address']);
    expect(problems({ ACME_DIRECTORY_URL: "http://acme.test/dir" })).toEqual(['ACME_DIRECTORY_URL: "http://acme.test/dir" is not an https URL']);
  });

  it("never repeats the value of a secret setting in a problem", () => {
    const list = problems({ SECRET_KEY: "hunter2-hunter2", DATABASE_URL: "mysql://ocim:pa55word@db/ocim", METRICS_TOKEN: "tok-123" });
    expect(list).toEqual([
      "DATABASE_URL: the value given (not shown: secret) is not a postgresql:// URL",
      "SECRET_KEY: the value given (not shown: secret) is shorter than 32 characters",
      "METRICS_TOKEN: the value given (not shown: secret) is shorter than 16 characters",
    ]);
    // A new key, token or secret added to the schema is secret here too.
    expect(settingNames().filter((n) => isSecretKey(n) && !SECRET_SETTINGS.has(n))).toEqual([]);
  });

  it("needs both GitHub app settings and an organization", () => {
    expect(problems({ GITHUB_CLIENT_ID: "x" })).toEqual([
      "GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither",
      "GITHUB_ORG: required when a GitHub app is configured",
    ]);
  });

  it("refuses to run in production without the settings production needs", () => {
    const list = problems({ NODE_ENV: "production" });
    expect(list.map((p) => p.split(":")[0])).toEqual(["GITHUB_CLIENT_ID", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PUBLIC_URL"]);
  });

  it("keeps local balancer files in DATA_DIR/haproxy unless LOCAL_LB_DIR says where, never in /", () => {
    expect(loadConfig({ DATA_DIR: "/srv/ocim" }).localLbDir).toBe("/srv/ocim/haproxy");
    expect(loadConfig({ LOCAL_LB_DIR: "/var/lib/ocim/lb/" }).localLbDir).toBe("/var/lib/ocim/lb");
    expect(problems({ LOCAL_LB_DIR: "/usr/.." })).toEqual(["LOCAL_LB_DIR: a directory of its own, not /"]);
  });

  it("documents every setting in .env.example", () => {
    const example = readFileSync(".env.example", "utf8");
    const names = settingNames();
    expect(names.length).toBeGreaterThan(20);
    const missing = names.filter((n) => !new RegExp(`^#? ?${n}=`, "m").test(example));
    expect(missing).toEqual([]);
  });

  it("documents every setting in the README's settings table, and no setting that is gone", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("\n## Settings\n"), readme.indexOf("\n## Command line\n"));
    // The names in the first column of each row: "| `LB_HTTP_PORT`, `LB_BIND` | …".
    const documented = section.split("\n").filter((line) => line.startsWith("| `"))
      .flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!));
    const names = settingNames();
    expect(names.filter((n) => !documented.includes(n))).toEqual([]);
    expect(documented.filter((n) => !names.includes(n))).toEqual([]);
  });
});
