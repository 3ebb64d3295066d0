// GitHub REST over fetch; the base URL comes from settings so GitHub Enterprise and the in-test
// server work the same way. Lists follow the Link header; rate limits are waited out; a 403 that
// is GitHub refusing (SAML SSO, OAuth App access restrictions) becomes GithubRefused, never "no".
import { GithubCallFailed, GithubRateLimited, GithubRefused, type GithubApi } from "./port.js";
import { readPullRequest } from "./pull-request.js";

export interface GithubRestOptions {
  apiUrl: string;
  /** The app's token for org-wide calls (GITHUB_TOKEN). */
  token?: string;
  timeoutMs?: number;
  /** The longest this client waits, in all, for rate limits on one request before giving up. */
  maxRateWaitMs?: number;
  /** Injected so tests do not sleep through GitHub's minute-long waits. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

const MAX_PAGES = 100;
const MAX_ATTEMPTS = 4;
// "Wait for at least one minute before retrying", and "an exponentially increasing amount of time"
// when it happens again (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
const SECONDARY_WAIT_MS = 60_000;
// At login a person is waiting for the page: a longer wait fails at once with the time GitHub asks.
const LOGIN_WAIT_MS = 5_000;

interface GithubMessage {
  message?: string;
}

export function createGithubRest(opts: GithubRestOptions): GithubApi {
  const base = opts.apiUrl.replace(/\/$/, "");
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const budgetMs = opts.maxRateWaitMs ?? 60_000;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? (() => new Date());

  /** How long GitHub asks to wait before this request may be sent again; null when it is no rate limit. */
  async function rateLimitWait(res: Response, attempt: number): Promise<number | null> {
    if (res.status !== 403 && res.status !== 429) return null;
    const retryAfter = Number(res.headers.get("retry-after"));
    if (retryAfter > 0) return retryAfter * 1000;
    if (res.headers.get("x-ratelimit-remaining") === "0") {
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      return reset > 0 ? Math.max(0, reset * 1000 - now().getTime()) + 1000 : SECONDARY_WAIT_MS;
    }
    // A 403 is a secondary limit only when its message says so (it may come without any rate-limit
    // header); other 403s are refusals. A 429 is always a rate limit.
    const body = (await res.clone().json().catch(() => ({}))) as GithubMessage;
    if (res.status === 429 || /secondary rate limit/i.test(body.message ?? "")) return SECONDARY_WAIT_MS * 2 ** attempt;
    return null;
  }

  interface CallOptions {
    redirect?: RequestRedirect;
    maxWaitMs?: number;
    /** A JSON body: the call is a POST. */
    post?: unknown;
  }

  async function call(url: string, token: string | undefined, { redirect = "follow", maxWaitMs = budgetMs, post }: CallOptions = {}): Promise<Response> {
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, {
        method: post === undefined ? "GET" : "POST",
        headers: {
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(post === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(post === undefined ? {} : { body: JSON.stringify(post) }),
        redirect,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const waitMs = await rateLimitWait(res, attempt);
      if (waitMs === null) return res;
      if (attempt + 1 >= MAX_ATTEMPTS || waited + waitMs > maxWaitMs) throw new GithubRateLimited(waitMs);
      await sleep(waitMs);
      waited += waitMs;
    }
  }

  async function list<T>(path: string, org?: string): Promise<T[]> {
    const out: T[] = [];
    let url: string | null = `${base}${path}${path.includes("?") ? "&" : "?"}per_page=100`;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      // An organization's list is not followed anywhere else: a redirect means a lesser list.
      const res = await call(url, opts.token, { redirect: org ? "manual" : "follow" });
      if (org) checkFullList(res, org);
      if (!res.ok) throw (org && (await refusal(res, org))) || new Error(`GitHub answered ${res.status} for ${path}`);
      out.push(...((await res.json()) as T[]));
      url = nextLink(res.headers.get("link"));
    }
    return out;
  }

  return {
    // "Get an organization membership for the authenticated user": 200 with `state` "active", or
    // "pending" for an invitation not accepted yet; 404 when there is neither
    // (https://docs.github.com/en/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user).
    async orgMembership(accessToken, org) {
      const res = await call(`${base}/user/memberships/orgs/${encodeURIComponent(org)}`, accessToken, { maxWaitMs: Math.min(budgetMs, LOGIN_WAIT_MS) });
      if (res.status === 404) return "none";
      if (res.status === 403) throw (await refusal(res, org))!;
      if (!res.ok) throw new Error(`GitHub answered ${res.status} for the organization membership`);
      const body = (await res.json()) as { state?: string };
      return body.state === "active" ? "active" : body.state === "pending" ? "pending" : "none";
    },
    async listOrgMembers(org) {
      const members = await list<{ login: string }>(`/orgs/${encodeURIComponent(org)}/members`, org);
      return members.map((m) => m.login.toLowerCase());
    },
    async listUserKeys(login) {
      const keys = await list<{ key: string }>(`/users/${encodeURIComponent(login)}/keys`);
      return keys.map((k) => k.key.trim());
    },
    // "Check organization membership for a user": 204 when a member, 404 when not, and 302 (to the
    // public membership check) when the requester is not a member itself
    // (https://docs.github.com/en/rest/orgs/members#check-organization-membership-for-a-user).
    async isOrgMember(org, login) {
      const res = await call(`${base}/orgs/${encodeURIComponent(org)}/members/${encodeURIComponent(login)}`, opts.token, { redirect: "manual" });
      checkFullList(res, org);
      if (res.status === 204) return true;
      if (res.status === 404) return false;
      throw (await refusal(res, org)) ?? new Error(`GitHub answered ${res.status} for the membership of ${login} in ${org}`);
    },
    // "List pull requests", state=open by default (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests).
    async listOpenPulls(owner, repo) {
      const pulls = await list<unknown>(`${repoPath(owner, repo)}/pulls?state=open`);
      return pulls.map(readPullRequest);
    },
    // "Get a pull request": 404 when there is none (https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request).
    async getPull(owner, repo, number) {
      const res = await call(`${base}${repoPath(owner, repo)}/pulls/${number}`, opts.token);
      if (res.status === 404) return null;
      if (!res.ok) throw new GithubCallFailed(res.status, `GitHub answered ${res.status} for pull request #${number} of ${owner}/${repo}`);
      return readPullRequest(await res.json());
    },
    // "Create an issue comment" (a pull request is an issue): 201; 403 forbidden, 404 not found or
    // no access, 410 gone, 422 validation failed or spammed
    // (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment).
    async createIssueComment(owner, repo, number, body) {
      if (!opts.token) throw new GithubCallFailed(401, "No GITHUB_TOKEN is set: GitHub accepts comments only from an authenticated user.");
      const res = await call(`${base}${repoPath(owner, repo)}/issues/${number}/comments`, opts.token, { post: { body } });
      if (res.status !== 201) {
        const message = ((await res.json().catch(() => ({}))) as GithubMessage).message ?? "";
        throw new GithubCallFailed(res.status, `GitHub refused the comment on ${owner}/${repo}#${number} (${res.status}${message ? `: ${message.slice(0, 200)}` : ""}).`);
      }
      const created = (await res.json()) as { html_url?: string };
      return { htmlUrl: created.html_url ?? "" };
    },
  };
}

/**
 * Throws when `res` is a redirect instead of (a page of) the organization's member list: a
 * requester who cannot see the members is sent to the public ones ("302 Response if requester is
 * not an organization member", https://docs.github.com/en/enterprise-server@3.1/rest/orgs/members#list-organization-members).
 */
function checkFullList(res: Response, org: string): void {
  if (res.status < 300 || res.status >= 400) return;
  const to = res.headers.get("location") ?? "";
  const what = /\/public_members/.test(to) ? "to its public members" : `elsewhere (${res.status})`;
  throw new GithubRefused("incomplete_list", `GitHub redirected the member list of "${org}" ${what}: the token cannot see the organization's private members (it needs the read:org scope, and its owner must be a member of "${org}").`);
}

/** What a 403 about an organization means, or undefined for any other answer. */
async function refusal(res: Response, org: string): Promise<GithubRefused | undefined> {
  if (res.status !== 403) return undefined;
  const about = `the organization "${org}"`;
  // "If you receive a 403 Forbidden error, you can follow the URL in the X-GitHub-SSO header to
  // authorize your token" (https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api#personal-access-tokens-and-saml-sso).
  const sso = res.headers.get("x-github-sso") ?? "";
  if (/^\s*required/i.test(sso)) {
    const url = /(?:^|;)\s*url=(\S+?)\s*(?:;|$)/.exec(sso)?.[1];
    return new GithubRefused("sso_required", `${cap(about)} enforces SAML single sign-on, and this token is not authorized for it.`, url && /^https?:\/\//.test(url) ? url : undefined);
  }
  const body = (await res.json().catch(() => ({}))) as GithubMessage;
  // GitHub's only sign of OAuth App access restrictions is its message (no header), e.g.
  // gitbutlerapp/gitbutler#8594; https://docs.github.com/en/organizations/managing-oauth-access-to-your-organizations-data/about-oauth-app-access-restrictions
  if (/OAuth App access restrictions/i.test(body.message ?? "")) {
    return new GithubRefused("oauth_app_restricted", `${cap(about)} has OAuth App access restrictions and has not approved this console's OAuth app: an owner of the organization must approve it (organization settings, Third-party access).`);
  }
  return new GithubRefused("refused", `GitHub refused to answer about ${about} (403${body.message ? `: ${body.message.slice(0, 200)}` : ""}).`);
}

function repoPath(owner: string, repo: string): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The rel="next" URL of a Link header, if any. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) return m[1]!;
  }
  return null;
}
