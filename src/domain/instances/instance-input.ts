// The shape of an instance's settings on the way in (InstanceInput: a plain object of loosely typed
// values, as a form or the CLI gives them) and on the way to the database (InstanceData).
import type { Config } from "../../config.js";
import type { Input } from "../validation/field-reader.js";
import { derivePrefixedDomains, PREFIXED_DOMAIN_FIELDS, type PrefixedDomainField } from "./domains.js";

export const PROVIDER_KINDS = ["local", "openstack"] as const;
export const PULL_REQUEST_STATES = ["open", "closed", "merged"] as const;

export type InstanceData = {
  name: string;
  internalLmsDomain: string;
  externalDomains: string[];
  edxPlatformRepoUrl: string;
  edxPlatformBranch: string;
  configurationRepoUrl: string;
  configurationBranch: string;
  playbookPath: string;
  bootstrapCommand: string;
  openedxRelease: string;
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
 * Every field an input may have. Blank prefixed domains are derived from the LMS domain; blank
 * repositories, branches, playbook and release take the DEFAULT_* settings. `slug` is optional on
 * create (derived from the name) and cannot change afterwards.
 */
export const INSTANCE_INPUT_FIELDS = [
  "name", "slug", "internalLmsDomain", ...PREFIXED_DOMAIN_FIELDS, "externalDomains",
  "edxPlatformRepoUrl", "edxPlatformBranch", "configurationRepoUrl", "configurationBranch",
  "playbookPath", "bootstrapCommand", "openedxRelease", "extraAnsibleVars", "appserverCount",
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
  extraAnsibleVars: 65_536,
  appserverCount: { min: 1, max: 10 },
} as const;

export interface InstanceDefaults {
  edxPlatformRepoUrl: string;
  edxPlatformBranch: string;
  configurationRepoUrl: string;
  configurationBranch: string;
  playbookPath: string;
  openedxRelease: string;
}

export function instanceDefaults(config: Config): InstanceDefaults {
  return {
    edxPlatformRepoUrl: config.DEFAULT_EDX_PLATFORM_REPO_URL,
    edxPlatformBranch: config.DEFAULT_EDX_PLATFORM_BRANCH,
    configurationRepoUrl: config.DEFAULT_CONFIGURATION_REPO_URL,
    configurationBranch: config.DEFAULT_CONFIGURATION_BRANCH,
    playbookPath: config.DEFAULT_PLAYBOOK_PATH,
    openedxRelease: config.DEFAULT_OPENEDX_RELEASE,
  };
}

/**
 * An instance as input values (strings, as a form shows them). A prefixed domain equal to the one
 * derived from the LMS domain is left blank, so it keeps following the LMS domain when that changes.
 */
export function instanceToInput(instance: Omit<InstanceData, "pullRequestNumber">): Record<string, string> {
  const derived = derivePrefixedDomains(instance.internalLmsDomain);
  const values: Record<string, string> = {
    name: instance.name,
    internalLmsDomain: instance.internalLmsDomain,
    externalDomains: instance.externalDomains.join("\n"),
    edxPlatformRepoUrl: instance.edxPlatformRepoUrl,
    edxPlatformBranch: instance.edxPlatformBranch,
    configurationRepoUrl: instance.configurationRepoUrl,
    configurationBranch: instance.configurationBranch,
    playbookPath: instance.playbookPath,
    bootstrapCommand: instance.bootstrapCommand,
    openedxRelease: instance.openedxRelease,
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
