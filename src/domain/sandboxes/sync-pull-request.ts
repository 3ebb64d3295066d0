// Brings one pull request's sandbox in line with the pull request as GitHub describes it now
// (docs/pr-sandboxes.md). Idempotent, and the same whatever asked (a webhook's job, the poll):
// - open, no sandbox yet, by an allowed author: create the instance from the template through
//   createInstance (validation, audit), launch its first appserver, comment the link on the pull
//   request when GITHUB_TOKEN is set;
// - open, sandbox exists: a new head commit launches a new appserver when the repository says so
//   (and a sandbox that has no appserver at all, after a launch that failed, gets one); a reopened
//   pull request's sandbox is open again; each appserver that reaches running is activated
//   (src/domain/appservers/lifecycle.ts, activateSandbox);
// - closed: the sandbox is marked closed (or merged) with the time; the cleanup archives it and
//   terminates its appservers keepDaysAfterClose later (run-cleanup.ts).
// The unique index on (watchedRepositoryId, pullRequestNumber) keeps a webhook and a poll racing
// for one pull request from making two instances.
import type { Deps } from "../../deps.js";
import { publicUrlOf } from "../../config.js";
import type { GithubPullRequest } from "../../adapters/github/port.js";
import type { Instance, WatchedRepository } from "../../generated/prisma/client.ts";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { createInstance } from "../instances/create-instance.js";
import { launchAppServer } from "../appservers/launch-appserver.js";
import { uniqueViolationFields } from "../validation/unique-violation.js";
import { SITE_ROUTE_SELECT, siteUrl } from "../loadbalancer/site-url.js";
import { sandboxInput } from "./sandbox-input.js";

export const SANDBOX_ACTOR: Actor = { id: null, login: "ocim pr-sandboxes" };

type SyncDeps = Pick<Deps, "db" | "config" | "secrets" | "github" | "now" | "log" | "hostOs">;

/** What was done, in a few words (the job's result, the poll's log). */
export type SyncOutcome = "created" | "relaunched" | "launched" | "reopened" | "closed" | "unchanged" | `skipped: ${string}`;

/** Reads the pull request from GitHub, then syncs it: what a webhook's job does. */
export async function syncPullRequest(deps: SyncDeps, input: { watchedRepositoryId: number; pullRequestNumber: number }): Promise<SyncOutcome> {
  const repo = await deps.db.watchedRepository.findUnique({ where: { id: input.watchedRepositoryId } });
  if (!repo) return "skipped: the repository is no longer watched";
  const pr = await deps.github.getPull(repo.owner, repo.name, input.pullRequestNumber);
  if (!pr) return `skipped: GitHub has no pull request #${input.pullRequestNumber} in ${repo.owner}/${repo.name}`;
  return reconcilePullRequest(deps, repo, pr);
}

export async function reconcilePullRequest(deps: SyncDeps, repo: WatchedRepository, pr: GithubPullRequest): Promise<SyncOutcome> {
  const sandbox = await findSandbox(deps, repo.id, pr.number);
  const log = deps.log.child({ repository: `${repo.owner}/${repo.name}`, pullRequest: pr.number });
  let outcome: SyncOutcome;
  if (pr.state === "closed") outcome = sandbox ? await closeSandbox(deps, sandbox, pr) : "skipped: closed, and it has no sandbox";
  else if (!sandbox) outcome = await createSandbox(deps, repo, pr);
  else outcome = await refreshSandbox(deps, repo, sandbox, pr);
  log.info({ outcome }, "sandbox.synced");
  return outcome;
}

function findSandbox(deps: Pick<Deps, "db">, watchedRepositoryId: number, pullRequestNumber: number): Promise<Instance | null> {
  return deps.db.instance.findUnique({ where: { watchedRepositoryId_pullRequestNumber: { watchedRepositoryId, pullRequestNumber } } });
}

/** Why this author gets no sandbox, or null when they do. */
async function authorRefusal(deps: Pick<Deps, "config" | "github">, repo: WatchedRepository, author: string): Promise<string | null> {
  if (repo.authors === "list") return repo.allowedAuthors.includes(author) ? null : `${author} is not in the repository's list of allowed authors`;
  const org = deps.config.GITHUB_ORG;
  if (!org) return "authors must be organization members, and GITHUB_ORG is not set";
  return (await deps.github.isOrgMember(org, author)) ? null : `${author} is not a member of ${org}`;
}

async function createSandbox(deps: SyncDeps, repo: WatchedRepository, pr: GithubPullRequest): Promise<SyncOutcome> {
  const refusal = await authorRefusal(deps, repo, pr.author);
  if (refusal) return `skipped: ${refusal}`;
  if (!pr.headCloneUrl) return "skipped: the pull request's head repository was deleted";
  const template = await deps.db.instance.findUnique({ where: { id: repo.templateInstanceId } });
  if (!template) return "skipped: the template instance is gone";
  let instance: Instance;
  try {
    instance = await createInstance(deps, {
      actor: SANDBOX_ACTOR,
      values: sandboxInput(template, repo, { ...pr, headCloneUrl: pr.headCloneUrl }),
      sandbox: { watchedRepositoryId: repo.id, pullRequestHeadSha: pr.headSha },
    });
  } catch (err) {
    // Another sync (a webhook and the poll at once) made it first, and launched it: refused here by
    // the unique index, or before it by the domains it already holds.
    if (uniqueViolationFields(err)?.includes("watchedRepositoryId") || (await findSandbox(deps, repo.id, pr.number))) return "unchanged";
    throw describeRefusal(err, "The sandbox could not be made");
  }
  await launchAppServer(deps, { instanceId: instance.id, actor: SANDBOX_ACTOR });
  await commentSandboxLink(deps, repo, pr, instance);
  return "created";
}

async function refreshSandbox(deps: SyncDeps, repo: WatchedRepository, sandbox: Instance, pr: GithubPullRequest): Promise<SyncOutcome> {
  let outcome: SyncOutcome = "unchanged";
  if (sandbox.pullRequestState !== "open") {
    await setPullRequestState(deps, sandbox, { pullRequestState: "open", pullRequestClosedAt: null }, "sandbox.pull_request_reopened");
    outcome = "reopened";
  }
  if (sandbox.isArchived) return outcome === "reopened" ? outcome : "skipped: the sandbox is archived (unarchive it in the admin to launch again)";
  const appServers = await deps.db.appServer.count({ where: { instanceId: sandbox.id } });
  const pushed = pr.headSha !== sandbox.pullRequestHeadSha;
  if (appServers > 0 && !(pushed && repo.relaunchOnPush)) return outcome;
  try {
    await launchAppServer(deps, { instanceId: sandbox.id, actor: SANDBOX_ACTOR });
  } catch (err) {
    // At the provisioning cap, say: the head commit is not recorded, so the next poll tries again.
    if (err instanceof AppError && err.code === "rule") return `skipped: ${err.message}`;
    throw err;
  }
  if (pushed) await deps.db.instance.update({ where: { id: sandbox.id }, data: { pullRequestHeadSha: pr.headSha } });
  return appServers > 0 ? "relaunched" : "launched";
}

async function closeSandbox(deps: SyncDeps, sandbox: Instance, pr: GithubPullRequest): Promise<SyncOutcome> {
  const state = pr.merged ? "merged" : "closed";
  if (sandbox.pullRequestClosedAt && sandbox.pullRequestState === state) return "unchanged";
  await setPullRequestState(deps, sandbox, { pullRequestState: state, pullRequestClosedAt: sandbox.pullRequestClosedAt ?? deps.now() }, "sandbox.pull_request_closed");
  return "closed";
}

async function setPullRequestState(
  deps: Pick<Deps, "db">, sandbox: Instance,
  data: { pullRequestState: "open" | "closed" | "merged"; pullRequestClosedAt: Date | null }, action: "sandbox.pull_request_closed" | "sandbox.pull_request_reopened",
): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    await tx.instance.update({ where: { id: sandbox.id }, data });
    await recordAuditEvent(tx, {
      actor: SANDBOX_ACTOR, action, subjectType: "Instance", subjectId: sandbox.id, subjectName: sandbox.name,
      before: { pullRequestState: sandbox.pullRequestState, pullRequestClosedAt: sandbox.pullRequestClosedAt },
      after: data,
    });
  });
}

/**
 * Tells the pull request where its sandbox is. Only with GITHUB_TOKEN (GitHub takes comments from
 * an authenticated user only); a refusal is logged and does not undo the sandbox.
 */
async function commentSandboxLink(deps: SyncDeps, repo: WatchedRepository, pr: GithubPullRequest, instance: Instance): Promise<void> {
  if (!deps.config.GITHUB_TOKEN) return;
  // With the scheme and port its balancer serves it on: HTTPS only once a certificate is there.
  const route = await deps.db.instance.findUniqueOrThrow({ where: { id: instance.id }, select: SITE_ROUTE_SELECT });
  const url = (domain: string) => siteUrl(deps.config, route, domain);
  const body = [
    `A sandbox for this pull request is being deployed by Ocim: ${publicUrlOf(deps)}/instances/${instance.id}`,
    "",
    `Once its appserver runs, it is activated and answers at ${url(instance.internalLmsDomain)} (Studio: ${url(instance.studioDomain)}).`,
    repo.relaunchOnPush ? "New commits pushed to this branch launch a new appserver." : "New commits do not launch a new appserver by themselves: relaunch from the console.",
    `When the pull request is closed, the sandbox is archived and its appservers terminated ${repo.keepDaysAfterClose} day${repo.keepDaysAfterClose === 1 ? "" : "s"} later.`,
  ].join("\n");
  try {
    await deps.github.createIssueComment(repo.owner, repo.name, pr.number, body);
  } catch (err) {
    deps.log.warn({ err, repository: `${repo.owner}/${repo.name}`, pullRequest: pr.number, instanceId: instance.id }, "sandbox.comment_failed");
  }
}

/** A validation error's field messages in its message: the job's failure is all an operator sees. */
function describeRefusal(err: unknown, what: string): unknown {
  if (!(err instanceof AppError) || err.code !== "validation" || !err.details.fields) return err;
  const fields = Object.entries(err.details.fields).map(([f, m]) => `${f}: ${m}`).join("; ");
  return new AppError("validation", `${what}: ${fields}`, err.details);
}
