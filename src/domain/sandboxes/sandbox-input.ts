// What a pull request's sandbox is: a copy of the template instance's settings (the form values
// instanceToInput gives, so createInstance validates them like an admin's), with the pull request's
// branch in the watched repository's branch field, and domains of its own (docs/pr-sandboxes.md):
// "pr<number>." before the template's LMS domain, prefixed domains derived from that (or, where the
// template overrides one, "pr<number>." before the override), and no external domain (those name
// the production site).
import type { Instance, WatchedRepository } from "../../generated/prisma/client.ts";
import type { GithubPullRequest } from "../../adapters/github/port.js";
import { PREFIXED_DOMAIN_FIELDS } from "../instances/domains.js";
import { instanceToInput, LIMITS, type InstanceInput } from "../instances/instance-input.js";

export function sandboxDomainPrefix(number: number): string {
  return `pr${number}.`;
}

export function sandboxInput(template: Instance, repo: Pick<WatchedRepository, "name" | "branchField">, pr: GithubPullRequest & { headCloneUrl: string }): InstanceInput {
  const values: Record<string, string> = instanceToInput(template);
  const prefix = sandboxDomainPrefix(pr.number);
  values.name = `${repo.name} PR #${pr.number}${pr.title ? `: ${pr.title}` : ""}`.slice(0, LIMITS.name).trim();
  values.internalLmsDomain = prefix + template.internalLmsDomain;
  for (const field of PREFIXED_DOMAIN_FIELDS) if (values[field]) values[field] = prefix + values[field];
  values.externalDomains = "";
  if (repo.branchField === "edx_platform") {
    values.edxPlatformRepoUrl = pr.headCloneUrl;
    values.edxPlatformBranch = pr.headRef;
  } else {
    values.configurationRepoUrl = pr.headCloneUrl;
    values.configurationBranch = pr.headRef;
  }
  values.pullRequestUrl = pr.htmlUrl;
  values.pullRequestState = "open";
  values.isArchived = "false";
  return values;
}
