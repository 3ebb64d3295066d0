// Pure validation of an instance's settings: a plain input object in, typed data or one message per
// field out. Everything that needs the database (domains of other instances, the load balancer
// existing, slug taken) is checked by the create/update commands under their lock.
import type { FieldErrors } from "../../errors.js";
import { FieldReader } from "../validation/field-reader.js";
import { parsePluginEntry, tutorStorageProblem } from "../recipes/tutor.js";
import { DOMAIN_RE, derivePrefixedDomains, PREFIXED_DOMAIN_FIELDS } from "./domains.js";
import {
  derivedBranches, DOMAIN_FIELD_LABELS, INSTANCE_INPUT_FIELDS, LIMITS, PROVIDER_KINDS, PULL_REQUEST_STATES,
  type InstanceData, type InstanceDefaults, type InstanceInput,
} from "./instance-input.js";
import { RECIPE_KINDS } from "../recipes/recipe.js";
import { recipeReleaseProblem } from "../recipes/recipe-release.js";
import { checkRecipeVariables } from "../recipes/recipe-variables.js";
import { findRelease, releaseName } from "../recipes/releases.js";
import { checkExtraVariables, checkGitRef, checkPlaybookPath, checkRepoUrl, checkTutorPlugin, parsePullRequestUrl } from "./setting-rules.js";

export type DomainData = Pick<InstanceData, "internalLmsDomain" | "externalDomains" | (typeof PREFIXED_DOMAIN_FIELDS)[number]>;

export type InstanceValidation =
  | { ok: true; data: InstanceData; slug: string | null }
  /** `domains`: the domains that are valid in themselves, so the caller can still report which are taken. */
  | { ok: false; errors: FieldErrors; domains: DomainData };

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

export function validateInstance(input: InstanceInput, defaults: InstanceDefaults): InstanceValidation {
  const r = new FieldReader(input, INSTANCE_INPUT_FIELDS);
  const name = r.text("name", { required: true, max: LIMITS.name });
  const slug = r.text("slug", { max: LIMITS.slug, lower: true });
  if (slug && !SLUG_RE.test(slug)) r.fail("slug", "Use lowercase letters, digits and -, not starting or ending with -.");
  const tags = readTags(r);
  const domains = readDomains(r);
  const code = readCode(r, defaults);
  const extraAnsibleVars = r.block("extraAnsibleVars", LIMITS.extraAnsibleVars);
  const yamlError = checkExtraVariables(extraAnsibleVars) ?? checkRecipeVariables(extraAnsibleVars, code.recipe);
  if (yamlError) r.fail("extraAnsibleVars", yamlError);
  // Left out (an API call or a fleet file that does not set it): 1. Sent blank (the admin's form,
  // where it is required): refused, where 1 would have replaced the count without a word.
  const appserverCount = r.int("appserverCount", { ...LIMITS.appserverCount, ifLeftOut: 1 });
  const providerKind = r.choice("providerKind", PROVIDER_KINDS, "local");
  const loadBalancerId = r.int("loadBalancerId", { min: 1, max: 2_147_483_647, fallback: null });
  const [mysqlServiceId, mongodbServiceId, storageServiceId] = (["mysqlServiceId", "mongodbServiceId", "storageServiceId"] as const)
    .map((f) => r.int(f, { min: 1, max: 2_147_483_647, fallback: null }));
  const release = code.recipe === "tutor" && storageServiceId ? findRelease(code.openedxRelease) : undefined;
  const storageProblem = release ? tutorStorageProblem(release) : null;
  if (storageProblem && !r.hasError("openedxRelease")) r.fail("storageServiceId", storageProblem);
  const pullRequest = readPullRequest(r);
  const isArchived = r.bool("isArchived");
  if (!r.ok) return { ok: false, errors: r.errors, domains: validDomains(r, domains) };
  return {
    ok: true,
    slug: slug || null,
    data: {
      name, tags, ...domains, ...code, extraAnsibleVars, appserverCount: appserverCount!, providerKind: providerKind!,
      loadBalancerId, mysqlServiceId: mysqlServiceId ?? null, mongodbServiceId: mongodbServiceId ?? null, storageServiceId: storageServiceId ?? null, ...pullRequest, isArchived,
    },
  };
}

export const TAG_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** Free labels, one per line, lowercased, each once ("pilot", "customer-x"). */
function readTags(r: FieldReader): string[] {
  const tags = r.lines("tags", { maxItems: LIMITS.tags, maxLength: LIMITS.tag, lower: true });
  const bad = tags.find((t) => !TAG_RE.test(t));
  if (bad) r.fail("tags", `"${bad}" is not a tag: use lowercase letters, digits, -, _ and dots, starting with a letter or digit.`);
  const twice = tags.find((t, i) => tags.indexOf(t) !== i);
  if (twice) r.fail("tags", `"${twice}" is listed twice; list each tag once.`);
  return r.hasError("tags") ? [] : tags;
}

function domainMessage(value: string): string {
  return `"${value}" is not a valid domain name: use lowercase letters, digits, - and dots, like lms.example.com.`;
}

function readDomains(r: FieldReader): DomainData {
  const lms = r.text("internalLmsDomain", { required: true, max: LIMITS.domain, lower: true });
  if (lms && !DOMAIN_RE.test(lms)) r.fail("internalLmsDomain", domainMessage(lms));
  const derived = lms && !r.hasError("internalLmsDomain") ? derivePrefixedDomains(lms) : null;
  const out = { internalLmsDomain: lms } as DomainData;
  for (const field of PREFIXED_DOMAIN_FIELDS) {
    const given = r.text(field, { max: LIMITS.domain, lower: true });
    const value = given || derived?.[field] || "";
    if (value && !DOMAIN_RE.test(value)) {
      r.fail(field, given ? domainMessage(value) : `The derived domain "${value}" is too long to be valid; enter a shorter one.`);
    }
    out[field] = value;
  }
  out.externalDomains = r.lines("externalDomains", { maxItems: LIMITS.externalDomains, maxLength: LIMITS.domain, lower: true });
  const badExternal = out.externalDomains.find((d) => !DOMAIN_RE.test(d));
  if (badExternal) r.fail("externalDomains", domainMessage(badExternal));
  checkOwnDomainsDistinct(r, out);
  return out;
}

function validDomains(r: FieldReader, d: DomainData): DomainData {
  const out = { ...d, externalDomains: d.externalDomains.filter((e) => DOMAIN_RE.test(e)) };
  for (const field of ["internalLmsDomain", ...PREFIXED_DOMAIN_FIELDS] as const) if (r.hasError(field)) out[field] = "";
  return out;
}

/** No domain twice within the instance: the load balancer could not tell where to send it. */
function checkOwnDomainsDistinct(r: FieldReader, d: DomainData): void {
  const seen = new Map<string, string>();
  const entries: [keyof typeof DOMAIN_FIELD_LABELS, string][] = [
    ["internalLmsDomain", d.internalLmsDomain],
    ...PREFIXED_DOMAIN_FIELDS.map((f) => [f, d[f]] as [typeof f, string]),
    ...d.externalDomains.map((e) => ["externalDomains", e] as ["externalDomains", string]),
  ];
  for (const [field, domain] of entries) {
    if (!domain) continue;
    const first = seen.get(domain);
    if (first) r.fail(field, `${domain} is already this instance's ${first}; each domain may appear once.`);
    else seen.set(domain, DOMAIN_FIELD_LABELS[field]);
  }
}

type CodeData = Pick<InstanceData, "edxPlatformRepoUrl" | "edxPlatformBranch" | "configurationRepoUrl" | "configurationBranch" | "playbookPath" | "bootstrapCommand" | "recipe" | "openedxRelease" | "tutorPlugins">;

function readCode(r: FieldReader, defaults: InstanceDefaults): CodeData {
  const checked = (field: Exclude<keyof InstanceDefaults, "recipe">, max: number, check: (v: string) => string | null, fallback = defaults[field]): string => {
    const value = r.text(field, { max }) || fallback;
    const problem = r.hasError(field) ? null : check(value);
    if (problem) r.fail(field, problem);
    return value;
  };
  const recipe = r.choice("recipe", RECIPE_KINDS, defaults.recipe) ?? defaults.recipe;
  let openedxRelease = checked("openedxRelease", LIMITS.release, checkGitRef);
  const releaseProblem = r.hasError("openedxRelease") || r.hasError("recipe") ? null : recipeReleaseProblem(recipe, openedxRelease);
  if (releaseProblem) r.fail("openedxRelease", releaseProblem);
  openedxRelease = releaseName(openedxRelease);
  const branches = derivedBranches(recipe, openedxRelease);
  return {
    recipe,
    openedxRelease,
    tutorPlugins: readTutorPlugins(r, recipe),
    edxPlatformRepoUrl: checked("edxPlatformRepoUrl", LIMITS.url, checkRepoUrl),
    edxPlatformBranch: checked("edxPlatformBranch", LIMITS.ref, checkGitRef, branches.edxPlatformBranch ?? defaults.edxPlatformBranch),
    configurationRepoUrl: checked("configurationRepoUrl", LIMITS.url, checkRepoUrl),
    configurationBranch: checked("configurationBranch", LIMITS.ref, checkGitRef, branches.configurationBranch ?? defaults.configurationBranch),
    playbookPath: checked("playbookPath", LIMITS.playbookPath, checkPlaybookPath),
    // Free text on purpose: admins write the command that prepares a VM (DESIGN §5).
    bootstrapCommand: r.block("bootstrapCommand", LIMITS.bootstrapCommand),
  };
}

/** The Tutor plugins, one per line (checkTutorPlugin), each plugin once. */
function readTutorPlugins(r: FieldReader, recipe: string): string[] {
  const plugins = r.lines("tutorPlugins", { maxItems: LIMITS.tutorPlugins, maxLength: LIMITS.tutorPlugin });
  const problem = plugins.map(checkTutorPlugin).find((p) => p !== null);
  if (problem) r.fail("tutorPlugins", problem);
  const names = plugins.map((p) => parsePluginEntry(p).name.toLowerCase());
  const twice = plugins.find((_, i) => names.indexOf(names[i]!) !== i);
  if (twice) r.fail("tutorPlugins", `"${twice}" is listed twice; list each plugin once.`);
  if (plugins.length && recipe !== "tutor") {
    r.fail("tutorPlugins", `Only the tutor recipe installs Tutor plugins; this instance uses the ${recipe} recipe. Clear this field, or choose tutor.`);
  }
  return r.hasError("tutorPlugins") ? [] : plugins;
}

function readPullRequest(r: FieldReader): Pick<InstanceData, "pullRequestUrl" | "pullRequestNumber" | "pullRequestState"> {
  const url = r.text("pullRequestUrl", { max: LIMITS.url });
  let number: number | null = null;
  if (url) {
    const parsed = parsePullRequestUrl(url);
    if ("error" in parsed) r.fail("pullRequestUrl", parsed.error);
    else number = parsed.number;
  }
  const state = r.choice("pullRequestState", PULL_REQUEST_STATES, null);
  if (state && !url && !r.hasError("pullRequestUrl")) {
    r.fail("pullRequestState", "A state needs a pull request URL: enter the URL, or leave the state blank.");
  }
  return { pullRequestUrl: url || null, pullRequestNumber: number, pullRequestState: url ? (state ?? "open") : null };
}
