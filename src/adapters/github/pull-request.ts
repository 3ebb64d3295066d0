// A pull request as GitHub describes it, in a `pull_request` webhook payload and in the REST API's
// pull request objects (the same shape: https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request,
// https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request), read into what Ocim uses.
import { z } from "zod";
import type { GithubPullRequest } from "./port.js";

const pullSchema = z.object({
  number: z.number().int().positive(),
  title: z.string().default(""),
  html_url: z.string(),
  state: z.enum(["open", "closed"]),
  // The list endpoint's items have no `merged`, only `merged_at`
  // (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests); a single pull request and
  // the webhook payload have both.
  merged: z.boolean().nullish(),
  merged_at: z.string().nullish(),
  user: z.object({ login: z.string() }),
  head: z.object({
    ref: z.string(),
    sha: z.string(),
    // null when the head repository (a fork) was deleted.
    repo: z.object({ clone_url: z.string() }).nullable(),
  }),
});

/** The pull request in `raw`, or an Error naming what is missing. */
export function readPullRequest(raw: unknown): GithubPullRequest {
  const parsed = pullSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`GitHub sent a pull request Ocim cannot read: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  const p = parsed.data;
  return {
    number: p.number,
    title: p.title,
    htmlUrl: p.html_url,
    state: p.state,
    merged: p.merged ?? Boolean(p.merged_at),
    author: p.user.login.toLowerCase(),
    headRef: p.head.ref,
    headSha: p.head.sha,
    headCloneUrl: p.head.repo?.clone_url ?? null,
  };
}
