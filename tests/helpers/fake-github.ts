// An in-test HTTP server that speaks the parts of GitHub's OAuth and REST API that Ocim uses,
// so the real passport-github2 strategy and REST client run against it. It also answers the way
// GitHub does when things are not fine (each behaviour names the GitHub documentation it follows):
// a member list redirected to the public members, SAML SSO enforcement, OAuth App access
// restrictions, primary and secondary rate limits.
// For pull-request sandboxes it keeps repositories' pull requests (list, get, comment) and sends
// signed webhook deliveries the way GitHub does (sendWebhook).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";

export interface FakeGithubUser {
  login: string;
  name?: string;
  keys?: string[];
}

/** Headers of GitHub's 403/429 on a secondary rate limit: none, or a retry-after. */
export interface SecondaryLimit {
  status: 403 | 429;
  retryAfterSeconds?: number;
}

/** A pull request of a fake repository ("owner/name" lowercased is its key in `pulls`). */
export interface FakePull {
  number: number;
  title: string;
  author: string;
  headRef: string;
  headSha: string;
  /** The fork it comes from ("someone/edx-platform"); null: deleted (GitHub's `head.repo: null`). */
  headRepo: string | null;
  state: "open" | "closed";
  merged: boolean;
}

export interface FakeComment {
  repo: string;
  number: number;
  body: string;
  by: string;
}

export class FakeGithub {
  /** Pull requests by repository ("owner/name"). */
  readonly pulls = new Map<string, FakePull[]>();
  /** Comments posted on pull requests (issues), in order. */
  readonly comments: FakeComment[] = [];
  readonly users = new Map<string, FakeGithubUser>();
  readonly orgMembers = new Map<string, Set<string>>();
  /** Logins invited to an organization who have not accepted yet: their membership is "pending", and no member list has them. */
  readonly invited = new Map<string, Set<string>>();
  /** Members who made their membership public (the only ones /orgs/:org/public_members lists). */
  readonly publicMembers = new Map<string, Set<string>>();
  /** Who "is signed in to GitHub in the browser": the authorize endpoint approves as them. */
  browserUser: string | null = null;
  readonly requests: string[] = [];
  /** Page size of list endpoints (GitHub's real maximum is 100; tests use less to see paging). */
  pageSize = 100;
  /** The app token accepted for org-wide calls (GITHUB_TOKEN). */
  appToken = "ghp_app_token";
  /** False: the app token cannot see the organization's private members (no read:org, or its owner left). */
  appTokenSeesOrg = true;
  /** Organizations that enforce SAML SSO for every token (none of this fake's tokens is authorized for it). */
  readonly ssoEnforced = new Set<string>();
  /** Organizations with OAuth App access restrictions that have not approved the console's OAuth app. */
  readonly oauthRestricted = new Set<string>();
  /** Answer this many next API calls with a primary rate-limit 403 (remaining 0, reset in 1 s). */
  rateLimitNext = 0;
  /** Answer this many next API calls (those whose path matches secondaryLimitOn) with a secondary rate limit. */
  secondaryLimitNext = 0;
  secondaryLimitOn = /./;
  secondaryLimit: SecondaryLimit = { status: 403 };
  private readonly codes = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private server!: http.Server;
  url = "";

  addUser(user: FakeGithubUser, org?: string): void {
    this.users.set(user.login, user);
    if (org) this.addMember(org, user.login);
  }

  invite(org: string, login: string): void {
    if (!this.invited.has(org)) this.invited.set(org, new Set());
    this.invited.get(org)!.add(login);
  }

  addMember(org: string, login: string, opts: { public?: boolean } = {}): void {
    if (!this.orgMembers.has(org)) this.orgMembers.set(org, new Set());
    this.orgMembers.get(org)!.add(login);
    if (opts.public) {
      if (!this.publicMembers.has(org)) this.publicMembers.set(org, new Set());
      this.publicMembers.get(org)!.add(login);
    }
  }

  removeMember(org: string, login: string): void {
    this.orgMembers.get(org)?.delete(login);
    this.publicMembers.get(org)?.delete(login);
  }

  /** Opens a pull request on repo ("owner/name") from `author`'s fork; returns it. */
  openPull(repo: string, pull: { author: string; headRef: string; title?: string; number?: number }): FakePull {
    const list = this.pulls.get(repo.toLowerCase()) ?? [];
    this.pulls.set(repo.toLowerCase(), list);
    const number = pull.number ?? list.reduce((max, p) => Math.max(max, p.number), 0) + 1;
    const created: FakePull = {
      number, title: pull.title ?? `Change ${number}`, author: pull.author, headRef: pull.headRef, headSha: randomBytes(20).toString("hex"),
      headRepo: `${pull.author}/${repo.split("/")[1]}`, state: "open", merged: false,
    };
    list.push(created);
    return created;
  }

  pull(repo: string, number: number): FakePull {
    const found = this.pulls.get(repo.toLowerCase())?.find((p) => p.number === number);
    if (!found) throw new Error(`no pull request #${number} in ${repo}`);
    return found;
  }

  /** A push to the pull request's branch: a new head commit. */
  push(repo: string, number: number): FakePull {
    const p = this.pull(repo, number);
    p.headSha = randomBytes(20).toString("hex");
    return p;
  }

  close(repo: string, number: number, opts: { merged?: boolean } = {}): FakePull {
    const p = this.pull(repo, number);
    p.state = "closed";
    p.merged = opts.merged ?? false;
    return p;
  }

  /**
   * The pull request as GitHub's REST API and webhook payloads describe it
   * (https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request). `listItem`: as the list
   * endpoint gives it, with `merged_at` but no `merged`.
   */
  pullJson(repo: string, p: FakePull, listItem = false): Record<string, unknown> {
    const [owner, name] = repo.split("/");
    return {
      url: `${this.url}/repos/${repo}/pulls/${p.number}`,
      html_url: `https://github.com/${repo}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      title: p.title,
      user: { login: p.author, id: 7000, type: "User" },
      head: {
        label: `${p.author}:${p.headRef}`, ref: p.headRef, sha: p.headSha,
        repo: p.headRepo ? { full_name: p.headRepo, clone_url: `https://github.com/${p.headRepo}.git` } : null,
      },
      base: { ref: "master", repo: { full_name: repo, owner: { login: owner }, name, clone_url: `https://github.com/${repo}.git` } },
      merged_at: p.merged ? new Date().toISOString() : null,
      ...(listItem ? {} : { merged: p.merged }),
    };
  }

  /**
   * Delivers a `pull_request` event to `url` as GitHub does: the JSON body signed with HMAC-SHA256
   * under `secret` in X-Hub-Signature-256, with X-GitHub-Event and X-GitHub-Delivery
   * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers). `signWith`
   * signs with another secret (a forged or misconfigured delivery); null sends no signature.
   * `sha1Only` sends only the legacy X-Hub-Signature (HMAC-SHA1), as a webhook client that predates
   * SHA-256 would.
   */
  async sendWebhook(url: string, opts: { repo: string; number: number; action: string; secret: string; signWith?: string | null; event?: string; sha1Only?: boolean }): Promise<Response> {
    const p = this.pull(opts.repo, opts.number);
    const [owner, name] = opts.repo.split("/");
    const body = JSON.stringify({
      action: opts.action, number: p.number, pull_request: this.pullJson(opts.repo, p),
      repository: { full_name: opts.repo, name, owner: { login: owner } }, sender: { login: p.author },
    });
    return this.deliver(url, opts.event ?? "pull_request", body, opts.signWith === undefined ? opts.secret : opts.signWith, opts.sha1Only);
  }

  /**
   * The `ping` GitHub sends when a webhook is made (https://docs.github.com/en/webhooks/webhook-events-and-payloads#ping):
   * `zen`, `hook_id` and `hook` always; `repository` only for a repository's webhook; an
   * organization's webhook names the organization instead, and no repository. Signed like any
   * delivery when the webhook has a secret (null: none).
   */
  async sendPing(url: string, opts: { repo: string } | { org: string }, secret: string | null): Promise<Response> {
    const hookId = 4_000_001;
    const scope = "repo" in opts
      ? { hook: { type: "Repository", id: hookId, events: ["pull_request"] }, repository: { full_name: opts.repo, name: opts.repo.split("/")[1], owner: { login: opts.repo.split("/")[0] } } }
      : { hook: { type: "Organization", id: hookId, events: ["pull_request"] }, organization: { login: opts.org } };
    const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: hookId, ...scope, sender: { login: "octocat" } });
    return this.deliver(url, "ping", body, secret);
  }

  /** POSTs one delivery, signed as GitHub signs it: both headers, or only the legacy one. */
  private async deliver(url: string, event: string, body: string, key: string | null, sha1Only = false): Promise<Response> {
    const signatures: Record<string, string> = {};
    if (key !== null) {
      signatures["x-hub-signature"] = `sha1=${createHmac("sha1", key).update(body).digest("hex")}`;
      if (!sha1Only) signatures["x-hub-signature-256"] = await new Webhooks({ secret: key }).sign(body);
    }
    return fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "GitHub-Hookshot/fake", "x-github-event": event, "x-github-delivery": randomUUID(), ...signatures },
      body,
    });
  }

  /** The code GitHub would give `login` at the authorize step, as if they had approved the app. */
  issueCode(login: string): string {
    const code = randomBytes(8).toString("hex");
    this.codes.set(code, login);
    return code;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}`);
    const body = await new Promise<string>((r) => {
      let b = "";
      req.on("data", (c) => (b += c));
      req.on("end", () => r(b));
    });
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(data));
    };

    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const redirect = new URL(url.searchParams.get("redirect_uri") ?? "");
      if (!this.browserUser) return json(401, { message: "not signed in to the fake GitHub" });
      // "Users are redirected back to your site by GitHub": with a temporary `code`, and the `state`
      // given in the first step, unchanged, when one was given
      // (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#2-users-are-redirected-back-to-your-site-by-github).
      redirect.searchParams.set("code", this.issueCode(this.browserUser));
      const state = url.searchParams.get("state");
      if (state) redirect.searchParams.set("state", state);
      res.writeHead(302, { location: redirect.toString() });
      return void res.end();
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const params = new URLSearchParams(body);
      const login = this.codes.get(params.get("code") ?? "");
      if (!login) return json(200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      this.codes.delete(params.get("code")!);
      const token = `gho_${randomBytes(10).toString("hex")}`;
      this.tokens.set(token, login);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:org" });
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext -= 1;
      // Primary limit: 403 or 429 with x-ratelimit-remaining 0 and the reset time in UTC epoch
      // seconds (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
      const reset = String(Math.ceil(Date.now() / 1000) + 1);
      return json(403, { message: "API rate limit exceeded for user ID 1." }, { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
    }
    if (this.secondaryLimitNext > 0 && this.secondaryLimitOn.test(url.pathname)) {
      this.secondaryLimitNext -= 1;
      // Secondary limit: 403 or 429 and a message saying so; retry-after "might be present", and
      // otherwise nothing tells how long to wait (same page, and octokit/plugin-throttling.js#594).
      const { status, retryAfterSeconds } = this.secondaryLimit;
      return json(status, {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:FAKE.",
        documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
      }, retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) });
    }
    const auth = req.headers.authorization ?? "";
    const bearer = auth.replace(/^(token|Bearer) /i, "");
    const page = <T>(items: T[]) => {
      const n = Math.max(1, Number(url.searchParams.get("page") ?? 1));
      const size = Math.min(this.pageSize, Number(url.searchParams.get("per_page") ?? 30));
      const slice = items.slice((n - 1) * size, n * size);
      const headers: Record<string, string> = {};
      if (n * size < items.length) {
        const next = new URL(url);
        next.searchParams.set("page", String(n + 1));
        headers.link = `<${next.toString()}>; rel="next", <${this.url}${url.pathname}?page=1>; rel="first"`;
      }
      json(200, slice, headers);
    };
    const orgPath = url.pathname.match(/^\/(?:orgs|user\/memberships\/orgs)\/([^/]+)/);
    if (orgPath && this.refuseForOrg(decodeURIComponent(orgPath[1]!), bearer, json)) return;

    const orgMembers = url.pathname.match(/^\/orgs\/([^/]+)\/members$/);
    if (orgMembers) {
      if (bearer !== this.appToken) return json(401, { message: "Bad credentials" });
      const org = decodeURIComponent(orgMembers[1]!);
      if (!this.appTokenSeesOrg) {
        // A requester who cannot see the organization's members is redirected to the public
        // members list ("Response if requester is not an organization member: 302",
        // https://docs.github.com/en/enterprise-server@3.1/rest/orgs/members#list-organization-members).
        res.writeHead(302, { location: `${this.url}/orgs/${encodeURIComponent(org)}/public_members${url.search}` });
        return void res.end();
      }
      const members = [...(this.orgMembers.get(org) ?? [])].sort();
      return page(members.map((login, i) => ({ login, id: 5000 + i })));
    }
    const publicMembers = url.pathname.match(/^\/orgs\/([^/]+)\/public_members$/);
    if (publicMembers) {
      const members = [...(this.publicMembers.get(decodeURIComponent(publicMembers[1]!)) ?? [])].sort();
      return page(members.map((login, i) => ({ login, id: 5000 + i })));
    }
    const member = url.pathname.match(/^\/orgs\/([^/]+)\/members\/([^/]+)$/);
    if (member) {
      const org = decodeURIComponent(member[1]!);
      // 204 when a member, 404 when not; a requester who is not a member is redirected to the
      // public check (https://docs.github.com/en/rest/orgs/members#check-organization-membership-for-a-user).
      if (bearer !== this.appToken || !this.appTokenSeesOrg) {
        res.writeHead(302, { location: `${this.url}/orgs/${encodeURIComponent(org)}/public_members/${member[2]}` });
        return void res.end();
      }
      const wanted = decodeURIComponent(member[2]!).toLowerCase();
      const isMember = [...(this.orgMembers.get(org) ?? [])].some((l) => l.toLowerCase() === wanted);
      res.writeHead(isMember ? 204 : 404);
      return void res.end();
    }
    const repoPulls = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/);
    if (repoPulls && req.method === "GET") {
      const repo = `${decodeURIComponent(repoPulls[1]!)}/${decodeURIComponent(repoPulls[2]!)}`.toLowerCase();
      const list = this.pulls.get(repo) ?? [];
      if (repoPulls[3]) {
        const p = list.find((x) => x.number === Number(repoPulls[3]));
        return p ? json(200, this.pullJson(repo, p)) : json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest/pulls/pulls#get-a-pull-request" });
      }
      // "state": open (the default), closed or all (https://docs.github.com/en/rest/pulls/pulls#list-pull-requests).
      const state = url.searchParams.get("state") ?? "open";
      if (!["open", "closed", "all"].includes(state)) return json(422, { message: "Validation Failed" });
      return page(list.filter((p) => state === "all" || p.state === state).map((p) => this.pullJson(repo, p, true)));
    }
    const comment = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/);
    if (comment && req.method === "POST") {
      // 201 with the comment; only an authenticated user may comment, and the issue must exist
      // (https://docs.github.com/en/rest/issues/comments#create-an-issue-comment).
      if (bearer !== this.appToken) return json(401, { message: "Requires authentication" });
      const repo = `${decodeURIComponent(comment[1]!)}/${decodeURIComponent(comment[2]!)}`.toLowerCase();
      const number = Number(comment[3]);
      if (!this.pulls.get(repo)?.some((p) => p.number === number)) return json(404, { message: "Not Found" });
      let text: unknown;
      try {
        text = (JSON.parse(body) as { body?: unknown }).body;
      } catch {
        return json(400, { message: "Problems parsing JSON" });
      }
      if (typeof text !== "string" || !text) return json(422, { message: "Validation Failed", errors: [{ resource: "IssueComment", code: "missing_field", field: "body" }] });
      this.comments.push({ repo, number, body: text, by: "app" });
      const id = 80_000 + this.comments.length;
      return json(201, { id, body: text, html_url: `https://github.com/${repo}/pull/${number}#issuecomment-${id}` });
    }
    const keys = url.pathname.match(/^\/users\/([^/]+)\/keys$/);
    if (keys) {
      // Logins are case-insensitive on GitHub.
      const wanted = decodeURIComponent(keys[1]!).toLowerCase();
      const user = [...this.users.values()].find((u) => u.login.toLowerCase() === wanted);
      if (!user) return json(404, { message: "Not Found" });
      return page((user.keys ?? []).map((key, i) => ({ id: 9000 + i, key })));
    }
    const login = this.tokens.get(bearer);
    if (url.pathname === "/user") {
      if (!login) return json(401, { message: "Bad credentials" });
      const u = this.users.get(login)!;
      return json(200, { login: u.login, id: 1000 + [...this.users.keys()].indexOf(login), name: u.name ?? u.login, avatar_url: "", html_url: `${this.url}/${u.login}` });
    }
    const membership = url.pathname.match(/^\/user\/memberships\/orgs\/([^/]+)$/);
    if (membership) {
      if (!login) return json(401, { message: "Bad credentials" });
      const org = decodeURIComponent(membership[1]!);
      // state "active", or "pending" while an invitation is not accepted; 404 for neither
      // (https://docs.github.com/en/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user).
      if (this.invited.get(org)?.has(login)) return json(200, { state: "pending", role: "member", organization: { login: org }, user: { login } });
      if (!this.orgMembers.get(org)?.has(login)) return json(404, { message: "Not Found" });
      return json(200, { state: "active", role: "member", organization: { login: org }, user: { login } });
    }
    json(404, { message: "Not Found" });
  }

  /** GitHub's 403s for an organization's data that say nothing about membership; true when one was sent. */
  private refuseForOrg(org: string, token: string, json: (status: number, data: unknown, headers?: Record<string, string>) => void): boolean {
    if (this.ssoEnforced.has(org)) {
      // A token not authorized for SAML SSO gets 403 and an X-GitHub-SSO header with the URL that
      // authorizes it (https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api#personal-access-tokens-and-saml-sso,
      // header shape as in octokit/node-github#663).
      json(403, { message: "Resource protected by organization SAML enforcement. You must grant your Personal Access token access to this organization.", documentation_url: "https://docs.github.com/articles/authenticating-to-a-github-organization-with-saml-single-sign-on/" },
        { "x-github-sso": `required; url=${this.url}/orgs/${encodeURIComponent(org)}/sso?authorization_request=FAKE${randomBytes(6).toString("hex")}` });
      return true;
    }
    // OAuth App access restrictions apply to tokens of OAuth apps (the login's gho_ tokens), not to
    // personal access tokens (https://docs.github.com/en/organizations/managing-oauth-access-to-your-organizations-data/about-oauth-app-access-restrictions);
    // the message is GitHub's (gitbutlerapp/gitbutler#8594).
    if (this.oauthRestricted.has(org) && this.tokens.has(token)) {
      json(403, { message: `Although you appear to have the correct authorization credentials, the \`${org}\` organization has enabled OAuth App access restrictions, meaning that data access to third-parties is limited. For more information on these restrictions, including how to enable this app, visit https://docs.github.com/articles/restricting-access-to-your-organization-s-data/`, documentation_url: "https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user" });
      return true;
    }
    return false;
  }
}
