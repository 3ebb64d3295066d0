// Configuration as code: the fleet's settings as one YAML file (`ocim export`, `ocim import`).
// The file holds what an admin sets in the admin area — load balancers, provider accounts and
// instances, references by name — and never a secret: provider credentials are left out, and an
// instance's extra variables and bootstrap command are masked as the admin form shows them (an import
// puts the stored secrets back where the text still shows the mask, like the form does).
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { maskedSettings } from "../secrets/instance-secrets.js";
import { instanceToInput, PROVIDER_KINDS, PULL_REQUEST_STATES } from "../instances/instance-input.js";
import { PREFIXED_DOMAIN_FIELDS } from "../instances/domains.js";
import { LOAD_BALANCER_FIELDS, LOAD_BALANCER_KINDS } from "../loadbalancer/validate-load-balancer.js";

export const FLEET_FILE_VERSION = 1;

const text = z.string();
const name = z.string().nullable();

const balancerEntry = z.object({
  name: text, kind: z.enum(LOAD_BALANCER_KINDS), host: text, sshUser: text, sshPort: z.number().int(),
  configPath: text, mapPath: text, reloadCommand: text, fragmentName: text, httpsBind: text,
}).strict();

const providerEntry = z.object({
  name: text, kind: z.enum(PROVIDER_KINDS), settings: z.record(z.string(), z.unknown()),
}).strict();

const instanceEntry = z.object({
  slug: text, name: text, tags: z.array(text), internalLmsDomain: text,
  ...Object.fromEntries(PREFIXED_DOMAIN_FIELDS.map((f) => [f, text])) as Record<(typeof PREFIXED_DOMAIN_FIELDS)[number], typeof text>,
  externalDomains: z.array(text),
  recipe: text, openedxRelease: text, edxPlatformRepoUrl: text, edxPlatformBranch: text,
  configurationRepoUrl: text, configurationBranch: text, playbookPath: text, bootstrapCommand: text,
  tutorPlugins: z.array(text), extraAnsibleVars: text, appserverCount: z.number().int(),
  providerKind: z.enum(PROVIDER_KINDS), loadBalancer: name, mysqlService: name, mongodbService: name, storageService: name,
  pullRequestUrl: text, pullRequestState: z.enum(["", ...PULL_REQUEST_STATES]), isArchived: z.boolean(),
}).strict();

/** In a file, every field but the key (slug, name) may be left out: it then stays as it is. */
export const fleetFileSchema = z.object({
  version: z.literal(FLEET_FILE_VERSION),
  loadBalancers: z.array(balancerEntry.partial().required({ name: true })).default([]),
  providerAccounts: z.array(providerEntry.partial().required({ name: true })).default([]),
  instances: z.array(instanceEntry.partial().required({ slug: true })).default([]),
}).strict();

export type BalancerEntry = z.infer<typeof balancerEntry>;
export type ProviderEntry = z.infer<typeof providerEntry>;
export type InstanceEntry = z.infer<typeof instanceEntry>;
/** A file as read: entries may leave fields out. */
export type FleetFile = z.infer<typeof fleetFileSchema>;
/** A file as `ocim export` writes it: every field of every entry. */
export interface FleetExport {
  version: typeof FLEET_FILE_VERSION;
  loadBalancers: BalancerEntry[];
  providerAccounts: ProviderEntry[];
  instances: InstanceEntry[];
}

/** The names behind the ids instances refer to. */
export interface FleetNames {
  balancers: Map<number, string>;
  dataServices: Map<number, string>;
}

export async function readFleetNames(deps: Pick<Deps, "db">): Promise<FleetNames> {
  const [balancers, services] = await Promise.all([
    deps.db.loadBalancer.findMany({ select: { id: true, name: true } }),
    deps.db.dataService.findMany({ select: { id: true, name: true } }),
  ]);
  return { balancers: new Map(balancers.map((b) => [b.id, b.name])), dataServices: new Map(services.map((s) => [s.id, s.name])) };
}

export function balancerToEntry(lb: Record<(typeof LOAD_BALANCER_FIELDS)[number], unknown>): BalancerEntry {
  return balancerEntry.parse(Object.fromEntries(LOAD_BALANCER_FIELDS.map((f) => [f, lb[f]])));
}

export function providerToEntry(account: { name: string; kind: string; settings: unknown }): ProviderEntry {
  return { name: account.name, kind: account.kind as ProviderEntry["kind"], settings: (account.settings ?? {}) as Record<string, unknown> };
}

type StoredInstance = Parameters<typeof instanceToInput>[0] & { slug: string };

/** An instance as the file shows it: blank branches and prefixed domains follow the release and the LMS domain. */
export function instanceToEntry(instance: StoredInstance, names: FleetNames): InstanceEntry {
  const input = instanceToInput(instance);
  const masked = maskedSettings(instance);
  const nameOf = (map: Map<number, string>, id: number | null) => (id === null ? null : map.get(id) ?? null);
  return instanceEntry.parse({
    slug: instance.slug,
    name: input.name,
    tags: instance.tags,
    internalLmsDomain: input.internalLmsDomain,
    ...Object.fromEntries(PREFIXED_DOMAIN_FIELDS.map((f) => [f, input[f]])),
    externalDomains: instance.externalDomains,
    recipe: instance.recipe,
    openedxRelease: instance.openedxRelease,
    edxPlatformRepoUrl: instance.edxPlatformRepoUrl,
    edxPlatformBranch: input.edxPlatformBranch,
    configurationRepoUrl: instance.configurationRepoUrl,
    configurationBranch: input.configurationBranch,
    playbookPath: instance.playbookPath,
    bootstrapCommand: masked.bootstrapCommand,
    tutorPlugins: instance.tutorPlugins,
    // Extra variables that do not parse are never shown (they may hold secrets): the file says so.
    extraAnsibleVars: masked.extraVariables ?? "# not exported: the stored text does not parse as YAML (edit it in the admin)\n",
    appserverCount: instance.appserverCount,
    providerKind: instance.providerKind,
    loadBalancer: nameOf(names.balancers, instance.loadBalancerId),
    mysqlService: nameOf(names.dataServices, instance.mysqlServiceId),
    mongodbService: nameOf(names.dataServices, instance.mongodbServiceId),
    storageService: nameOf(names.dataServices, instance.storageServiceId),
    pullRequestUrl: instance.pullRequestUrl ?? "",
    pullRequestState: instance.pullRequestState ?? "",
    isArchived: instance.isArchived,
  });
}

/** The whole fleet, in a stable order (by name, by slug), so that two exports diff cleanly. */
export async function exportFleet(deps: Pick<Deps, "db">): Promise<FleetExport> {
  const names = await readFleetNames(deps);
  const [balancers, accounts, instances] = await Promise.all([
    deps.db.loadBalancer.findMany({ orderBy: { name: "asc" } }),
    deps.db.providerAccount.findMany({ orderBy: { name: "asc" }, select: { name: true, kind: true, settings: true } }),
    deps.db.instance.findMany({ orderBy: { slug: "asc" } }),
  ]);
  return {
    version: FLEET_FILE_VERSION,
    loadBalancers: balancers.map(balancerToEntry),
    providerAccounts: accounts.map(providerToEntry),
    instances: instances.map((i) => instanceToEntry(i, names)),
  };
}
