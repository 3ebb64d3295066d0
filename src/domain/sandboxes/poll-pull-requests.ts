// The polling fallback for webhooks (docs/pr-sandboxes.md): lists the open pull requests of every
// watched repository and syncs each, then asks about the sandboxes whose pull request is no longer
// in that list (closed or merged while a webhook was missed). Syncing is idempotent, so a pull
// request a webhook already handled changes nothing; one pull request that fails does not stop the
// others.
import type { Deps } from "../../deps.js";
import type { GithubPullRequest } from "../../adapters/github/port.js";
import { reconcilePullRequest, type SyncOutcome } from "./sync-pull-request.js";

export interface PollOutcome {
  repositories: number;
  synced: { repository: string; pullRequest: number; outcome: SyncOutcome }[];
  failed: { repository: string; pullRequest?: number; message: string }[];
}

type PollDeps = Pick<Deps, "db" | "config" | "secrets" | "github" | "now" | "log" | "hostOs">;

export async function pollPullRequests(deps: PollDeps): Promise<PollOutcome> {
  const repos = await deps.db.watchedRepository.findMany({ orderBy: { id: "asc" } });
  const outcome: PollOutcome = { repositories: repos.length, synced: [], failed: [] };
  for (const repo of repos) {
    const repository = `${repo.owner}/${repo.name}`;
    const fail = (err: unknown, pullRequest?: number) => {
      outcome.failed.push({ repository, pullRequest, message: (err as Error).message });
      deps.log.warn({ err, repository, pullRequest }, "sandbox.poll_failed");
    };
    const attempt = async (pullRequest: number, work: () => Promise<SyncOutcome>) => {
      try {
        outcome.synced.push({ repository, pullRequest, outcome: await work() });
      } catch (err) {
        fail(err, pullRequest);
      }
    };
    let open: GithubPullRequest[];
    try {
      open = await deps.github.listOpenPulls(repo.owner, repo.name);
    } catch (err) {
      fail(err);
      continue;
    }
    const openNumbers = new Set(open.map((p) => p.number));
    for (const pr of open) await attempt(pr.number, () => reconcilePullRequest(deps, repo, pr));
    const stale = await deps.db.instance.findMany({
      where: { watchedRepositoryId: repo.id, pullRequestState: "open", pullRequestNumber: { notIn: [...openNumbers] } },
      select: { pullRequestNumber: true },
    });
    for (const { pullRequestNumber } of stale) {
      await attempt(pullRequestNumber!, async () => {
        const pr = await deps.github.getPull(repo.owner, repo.name, pullRequestNumber!);
        return pr ? reconcilePullRequest(deps, repo, pr) : "skipped: GitHub no longer has it";
      });
    }
    await deps.db.watchedRepository.update({ where: { id: repo.id }, data: { lastPolledAt: deps.now() } });
  }
  deps.log.info({ repositories: outcome.repositories, synced: outcome.synced.length, failed: outcome.failed.length }, "sandbox.poll_done");
  return outcome;
}
