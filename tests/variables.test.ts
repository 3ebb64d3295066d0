import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateBaseVariables, mergedVariables } from "../src/domain/provisioning/variables.js";
import { createMasker, maskTree, secretValuesIn } from "../src/domain/secrets/mask-secrets.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";

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
  edxPlatformBranch: "open-release/redwood.master",
  configurationBranch: "open-release/redwood.master",
  extraAnsibleVars: "",
};
const auth = { user: "u1", password: "p4ssw0rd-secret" };

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
