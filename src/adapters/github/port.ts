// The GitHub calls Ocim makes: login membership, the organization's members and their SSH keys for
// SSH access to appservers (DESIGN §11), and the pull requests of watched repositories for their
// sandboxes (docs/pr-sandboxes.md).
export interface GithubUser {
  login: string;
  name: string;
  avatarUrl: string;
}

export interface GithubApi {
  /**
   * The membership of the user behind accessToken in org: active, pending (invited, the invitation
   * not accepted yet), or none; GithubRefused when GitHub would not say (SAML SSO, OAuth App access
   * restrictions).
   */
  orgMembership(accessToken: string, org: string): Promise<OrgMembership>;
  /** Every member's login (all pages), with the app's token; GithubRefused unless the list is the full one. */
  listOrgMembers(org: string): Promise<string[]>;
  /** A user's public SSH keys ("ssh-ed25519 AAAA…"). */
  listUserKeys(login: string): Promise<string[]>;
  /** Whether `login` is a member of org (the app's token must see its private members, else GithubRefused). */
  isOrgMember(org: string, login: string): Promise<boolean>;
  /** Every open pull request of owner/repo (all pages). */
  listOpenPulls(owner: string, repo: string): Promise<GithubPullRequest[]>;
  /** One pull request, open or not; null when GitHub has none by that number. */
  getPull(owner: string, repo: string, number: number): Promise<GithubPullRequest | null>;
  /** Posts a comment on a pull request (its issue), with the app's token; throws GithubCallFailed when refused. */
  createIssueComment(owner: string, repo: string, number: number, body: string): Promise<{ htmlUrl: string }>;
}

/** What Ocim reads of a pull request, from a webhook payload or the REST API (the same fields in both). */
export interface GithubPullRequest {
  number: number;
  title: string;
  htmlUrl: string;
  state: "open" | "closed";
  merged: boolean;
  author: string;
  headRef: string;
  headSha: string;
  /** Null when the fork the pull request comes from was deleted (GitHub then sends `head.repo: null`). */
  headCloneUrl: string | null;
}

/** GitHub answered a call with an error status (a comment refused: no token, no access, locked). */
export class GithubCallFailed extends Error {
  constructor(public readonly status: number, message: string) {
    super(message);
    this.name = "GithubCallFailed";
  }
}

export type OrgMembership = "active" | "pending" | "none";

/** GitHub said to slow down; retry after `retryAfterMs`. */
export class GithubRateLimited extends Error {
  constructor(public readonly retryAfterMs: number) {
    super(`GitHub's rate limit is exhausted; retry in ${Math.ceil(retryAfterMs / 1000)} s.`);
  }
}

/**
 * Why GitHub would not answer a question about an organization; none of them means "not a member".
 * - sso_required: the organization enforces SAML SSO and the token is not authorized for it;
 * - oauth_app_restricted: the organization restricts OAuth apps and has not approved this one;
 * - incomplete_list: GitHub answered with less than the full member list (the public members);
 * - refused: another 403.
 */
export type GithubRefusalReason = "sso_required" | "oauth_app_restricted" | "incomplete_list" | "refused";

export class GithubRefused extends Error {
  constructor(
    public readonly reason: GithubRefusalReason,
    message: string,
    /** For sso_required: the page where the token's owner authorizes it (GitHub's X-GitHub-SSO header). */
    public readonly ssoUrl?: string,
  ) {
    super(message);
    this.name = "GithubRefused";
  }
}
