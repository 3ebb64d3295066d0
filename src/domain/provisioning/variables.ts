// The variables of the native and custom recipes (DESIGN §5, recipes/recipe.ts merges them): a
// generated base that uses the Open edX configuration's own names, and the merge rules.
// tests/variables.test.ts checks every generated name against the names the configuration repo
// defines (data/openedx-configuration-vars.tsv, from openedx/configuration), so a typo never reaches a 2-hour deployment.
import type { BasicAuth } from "../instances/secret.js";
import type { InstanceDataPlan } from "../../adapters/data/port.js";
import { dataVariables, type DataEndpoints } from "./data-variables.js";
import { parseAnsibleYaml } from "./ansible-yaml.js";

export interface VariableSource {
  name: string;
  internalLmsDomain: string;
  studioDomain: string;
  previewDomain: string;
  ecommerceDomain: string;
  discoveryDomain: string;
  edxPlatformRepoUrl: string;
  edxPlatformBranch: string;
  configurationBranch: string;
  extraAnsibleVars: string;
}

export interface SshUser {
  githubLogin: string;
  keys: string[];
}

/** What a launch adds to the instance's settings: the appserver's own name, the instance's secrets and data. */
export interface BaseParts {
  /** The VM's name (`<slug>-as<N>`, vmName): each appserver names itself, not the LMS domain. */
  hostname?: string;
  /** instanceSecretVariables: the same for every appserver of the instance. */
  secrets?: Record<string, unknown>;
  /** tutorSecretVariables: the same secrets in Tutor's names (the tutor recipe reads these). */
  tutorSecrets?: Record<string, string>;
  /** The instance's data plan and the shared services it has (none: the playbook's local servers). */
  data?: { plan: InstanceDataPlan; services: DataEndpoints };
  /** Whether the site is served over HTTPS (servedOverHttps at launch); absent: it is. */
  https?: boolean;
}

/** The scheme of the site's own URLs (BaseParts.https). */
export function siteScheme(parts: BaseParts): "https" | "http" {
  return parts.https === false ? "http" : "https";
}

export function generateBaseVariables(instance: VariableSource, auth: BasicAuth, sshUsers: SshUser[], parts: BaseParts = {}): Record<string, unknown> {
  const lms = instance.internalLmsDomain;
  const scheme = siteScheme(parts);
  return {
    ...parts.secrets,
    ...(parts.data ? dataVariables(parts.data.plan, parts.data.services) : {}),
    COMMON_HOSTNAME: parts.hostname ?? lms,
    COMMON_DEPLOYMENT: "ocim",
    COMMON_ENVIRONMENT: "appserver",
    COMMON_LMS_BASE_URL: `${scheme}://${lms}`,
    COMMON_ECOMMERCE_BASE_URL: `${scheme}://${instance.ecommerceDomain}`,
    COMMON_ENABLE_BASIC_AUTH: true,
    COMMON_HTPASSWD_USER: auth.user,
    COMMON_HTPASSWD_PASS: auth.password,
    COMMON_SSH_PASSWORD_AUTH: "no",
    COMMON_USER_INFO: sshUsers.map((u) => ({ name: u.githubLogin, type: "admin", authorized_keys: u.keys })),
    EDXAPP_PLATFORM_NAME: instance.name,
    EDXAPP_SITE_NAME: lms,
    EDXAPP_LMS_BASE: lms,
    EDXAPP_LMS_SITE_NAME: lms,
    EDXAPP_LMS_ROOT_URL: `${scheme}://${lms}`,
    EDXAPP_PREVIEW_LMS_BASE: instance.previewDomain,
    EDXAPP_CMS_BASE: instance.studioDomain,
    EDXAPP_CMS_SITE_NAME: instance.studioDomain,
    DISCOVERY_URL_ROOT: `${scheme}://${instance.discoveryDomain}`,
    ECOMMERCE_ECOMMERCE_URL_ROOT: `${scheme}://${instance.ecommerceDomain}`,
    edx_platform_repo: instance.edxPlatformRepoUrl,
    EDX_PLATFORM_VERSION: instance.edxPlatformBranch,
    CONFIGURATION_VERSION: instance.configurationBranch,
  };
}

/**
 * The most the playbook variables may weigh as JSON. A few lines of YAML can expand to megabytes
 * through aliases (99 aliases to one 50 KB value: 5 MB), and every launch stores them in its
 * snapshot and sends them to the VM.
 */
export const MAX_VARIABLES_JSON_BYTES = 1_000_000;

/** The size of `value` as JSON, in MB with one decimal, when it is over MAX_VARIABLES_JSON_BYTES; null otherwise. */
export function oversizeVariables(value: unknown): string | null {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  return bytes > MAX_VARIABLES_JSON_BYTES ? `${(bytes / 1_000_000).toFixed(1)} MB` : null;
}

/** A YAML/JSON mapping (not a list, not null). */
export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge of mappings; lists and scalars from `over` replace those of `base`. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isMapping(current) && isMapping(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The instance's extra variables as a mapping (validated on save; an empty text is {}). */
export function parseExtraVariables(yaml: string): Record<string, unknown> {
  if (!yaml.trim()) return {};
  const parsed: unknown = parseAnsibleYaml(yaml);
  if (parsed === null || parsed === undefined) return {};
  if (!isMapping(parsed)) throw new Error("extra ansible variables must be a YAML mapping");
  return parsed;
}
