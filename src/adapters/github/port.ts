// The GitHub calls Ocim makes: login membership, and the organization's members and their SSH
// keys for SSH access to appservers (DESIGN §11).
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
