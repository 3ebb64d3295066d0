// The shape of an instance's settings on the way in (InstanceInput: a plain object of loosely typed
// values, as a form or the CLI gives them) and on the way to the database (InstanceData).
import type { Config } from "../../config.js";
import type { Input } from "../validation/field-reader.js";
import type { Recipe } from "../../generated/prisma/enums.ts";
import { findRelease, releaseBranch } from "../recipes/releases.js";
import { derivePrefixedDomains, PREFIXED_DOMAIN_FIELDS, type PrefixedDomainField } from "./domains.js";

export const PROVIDER_KINDS = ["local", "openstack"] as const;
export const PULL_REQUEST_STATES = ["open", "closed", "merged"] as const;

export type InstanceData = {
  name: string;
  internalLmsDomain: string;
  externalDomains: string[];
  tags: string[];
  edxPlatformRepoUrl: string;
  edxPlatformBranch: string;
  configurationRepoUrl: string;
  configurationBranch: string;
  playbookPath: string;
  bootstrapCommand: string;
  openedxRelease: string;
  recipe: Recipe;
  tutorPlugins: string[];
  extraAnsibleVars: string;
  appserverCount: number;
  providerKind: (typeof PROVIDER_KINDS)[number];
  loadBalancerId: number | null;
  /** The shared data services that keep the instance's data (src/domain/data/); null: on each appserver. */
  mysqlServiceId: number | null;
  mongodbServiceId: number | null;
  storageServiceId: number | null;
  pullRequestUrl: string | null;
  pullRequestNumber: number | null;
  pullRequestState: (typeof PULL_REQUEST_STATES)[number] | null;
  isArchived: boolean;
} & Record<PrefixedDomainField, string>;

/**
 * Every field an input may have. Blank prefixed domains are derived from the LMS domain; a blank
 * recipe, release, repository, playbook take the DEFAULT_* settings; blank branches follow the
 * release (derivedBranches). `slug` is optional on create (derived from the name) and cannot change.
 */
export const INSTANCE_INPUT_FIELDS = [
  "name", "slug", "tags", "internalLmsDomain", ...PREFIXED_DOMAIN_FIELDS, "externalDomains",
  "edxPlatformRepoUrl", "edxPlatformBranch", "configurationRepoUrl", "configurationBranch",
  "playbookPath", "bootstrapCommand", "recipe", "openedxRelease", "tutorPlugins", "extraAnsibleVars", "appserverCount",
  "providerKind", "loadBalancerId", "mysqlServiceId", "mongodbServiceId", "storageServiceId", "pullRequestUrl", "pullRequestState", "isArchived",
] as const;

export type InstanceInput = Partial<Record<(typeof INSTANCE_INPUT_FIELDS)[number], unknown>> & Input;

export const LIMITS = {
  name: 100,
  slug: 40,
  domain: 253,
  externalDomains: 50,
  url: 500,
  ref: 200,
  playbookPath: 300,
  bootstrapCommand: 4000,
  release: 100,
  tutorPlugins: 30,
  tutorPlugin: 100,
  tags: 20,
  tag: 50,
  extraAnsibleVars: 65_536,
  appserverCount: { min: 1, max: 10 },
} as const;

export interface InstanceDefaults {
  recipe: Recipe;
  edxPlatformRepoUrl: string;
  edxPlatformBranch: string;
  configurationRepoUrl: string;
  configurationBranch: string;
  playbookPath: string;
  openedxRelease: string;
}

export function instanceDefaults(config: Config): InstanceDefaults {
  return {
    recipe: config.DEFAULT_RECIPE,
    edxPlatformRepoUrl: config.DEFAULT_EDX_PLATFORM_REPO_URL,
    edxPlatformBranch: config.DEFAULT_EDX_PLATFORM_BRANCH,
    configurationRepoUrl: config.DEFAULT_CONFIGURATION_REPO_URL,
    configurationBranch: config.DEFAULT_CONFIGURATION_BRANCH,
    playbookPath: config.DEFAULT_PLAYBOOK_PATH,
    openedxRelease: config.DEFAULT_OPENEDX_RELEASE,
  };
}

/**
 * The branches a blank field stands for, given the recipe and release: the release's edx-platform
 * branch when Ocim knows the release, and for native its openedx/configuration branch. Null: no
 * derivation (the DEFAULT_* setting applies).
 */
export function derivedBranches(recipe: Recipe, release: string): { edxPlatformBranch: string | null; configurationBranch: string | null } {
  const known = findRelease(release);
  return {
    edxPlatformBranch: known ? releaseBranch(known) : null,
    configurationBranch: recipe === "native" ? (known?.configurationBranch ?? null) : null,
  };
}

/**
 * An instance as input values (strings, as a form shows them). A prefixed domain equal to the one
 * derived from the LMS domain is left blank, so it keeps following the LMS domain when that changes;
 * a branch equal to the one its release names likewise follows a change of release.
 */
export function instanceToInput(instance: Omit<InstanceData, "pullRequestNumber">): Record<string, string> {
  const derived = derivePrefixedDomains(instance.internalLmsDomain);
  const branches = derivedBranches(instance.recipe, instance.openedxRelease);
  const values: Record<string, string> = {
    name: instance.name,
    tags: instance.tags.join("\n"),
    internalLmsDomain: instance.internalLmsDomain,
    externalDomains: instance.externalDomains.join("\n"),
    edxPlatformRepoUrl: instance.edxPlatformRepoUrl,
    edxPlatformBranch: instance.edxPlatformBranch === branches.edxPlatformBranch ? "" : instance.edxPlatformBranch,
    configurationRepoUrl: instance.configurationRepoUrl,
    configurationBranch: instance.configurationBranch === branches.configurationBranch ? "" : instance.configurationBranch,
    playbookPath: instance.playbookPath,
    bootstrapCommand: instance.bootstrapCommand,
    recipe: instance.recipe,
    openedxRelease: instance.openedxRelease,
    tutorPlugins: instance.tutorPlugins.join("\n"),
    extraAnsibleVars: instance.extraAnsibleVars,
    appserverCount: String(instance.appserverCount),
    providerKind: instance.providerKind,
    loadBalancerId: instance.loadBalancerId === null ? "" : String(instance.loadBalancerId),
    mysqlServiceId: instance.mysqlServiceId === null ? "" : String(instance.mysqlServiceId),
    mongodbServiceId: instance.mongodbServiceId === null ? "" : String(instance.mongodbServiceId),
    storageServiceId: instance.storageServiceId === null ? "" : String(instance.storageServiceId),
    pullRequestUrl: instance.pullRequestUrl ?? "",
    pullRequestState: instance.pullRequestState ?? "",
    isArchived: instance.isArchived ? "true" : "false",
  };
  for (const field of PREFIXED_DOMAIN_FIELDS) values[field] = instance[field] === derived[field] ? "" : instance[field];
  return values;
}

/** How each domain field is named in messages ("… is already used by instance X (its Studio domain)"). */
export const DOMAIN_FIELD_LABELS: Record<"internalLmsDomain" | PrefixedDomainField | "externalDomains", string> = {
  internalLmsDomain: "LMS domain",
  studioDomain: "Studio domain",
  previewDomain: "preview domain",
  ecommerceDomain: "ecommerce domain",
  discoveryDomain: "discovery domain",
  appsDomain: "apps domain",
  externalDomains: "external domain",
};
