// What the JSON API returns: plain objects with stable field names, built from the domain queries.
// The API is a contract for scripts: add fields, never rename them.
import type { InstanceListRow } from "../../domain/instances/list-instances.js";
import type { InstanceDetail } from "../../domain/instances/get-instance.js";
import { allDomains } from "../../domain/instances/domains.js";
import { maskedSettings } from "../../domain/secrets/instance-secrets.js";
import { tutorVersionFor } from "../../domain/recipes/recipe-release.js";

export function instanceListItem(row: InstanceListRow) {
  return {
    id: row.id,
    name: row.name,
    domain: row.internalLmsDomain,
    isArchived: row.isArchived,
    activeAppServers: row.activeAppServers,
    latestAppServerStatus: row.latestStatus,
    url: `/api/v1/instances/${row.id}`,
  };
}

export function instanceDetail(i: InstanceDetail) {
  const masked = maskedSettings(i);
  return {
    id: i.id,
    name: i.name,
    slug: i.slug,
    domain: i.internalLmsDomain,
    domains: {
      lms: i.internalLmsDomain, studio: i.studioDomain, preview: i.previewDomain, ecommerce: i.ecommerceDomain,
      discovery: i.discoveryDomain, apps: i.appsDomain, external: i.externalDomains,
    },
    allDomains: allDomains(i),
    isArchived: i.isArchived,
    settings: {
      recipe: i.recipe,
      // "Tutor 21": the Tutor major version a tutor instance's release installs; null otherwise.
      tutorVersion: tutorVersionFor(i.recipe, i.openedxRelease),
      tutorPlugins: i.tutorPlugins,
      edxPlatformRepoUrl: i.edxPlatformRepoUrl,
      edxPlatformBranch: i.edxPlatformBranch,
      configurationRepoUrl: i.configurationRepoUrl,
      configurationBranch: i.configurationBranch,
      playbookPath: i.playbookPath,
      // Secret values masked for everyone: an admin reveals them on the instance page, audited.
      bootstrapCommand: masked.bootstrapCommand,
      openedxRelease: i.openedxRelease,
      // Null when the YAML does not parse (then it may not be shown at all).
      extraAnsibleVars: masked.extraVariables,
      appserverCount: i.appserverCount,
      provider: i.providerKind,
      loadBalancer: i.loadBalancer,
      pullRequest: i.pullRequestUrl ? { url: i.pullRequestUrl, number: i.pullRequestNumber, state: i.pullRequestState } : null,
    },
    appServers: {
      total: i.appServerTotals.all,
      active: i.appServerTotals.active,
      newest: i.appServers.map((a) => ({
        id: a.id, name: a.name, status: a.status, vmStatus: a.vmStatus, isActive: a.isActive, publicIp: a.publicIp,
        createdAt: a.createdAt, createdBy: a.createdBy, url: `/api/v1/appservers/${a.id}`,
      })),
    },
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
  };
}
