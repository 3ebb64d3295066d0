// The GitHub calls Ocim makes: login membership, and the organization's members and their SSH
// keys for SSH access to appservers (DESIGN §11).
export interface GithubUser {
  login: string;
  name: string;
  avatarUrl: string;
}

export interface GithubApi {
  /** True when the user behind accessToken is an active member of org. */
  isOrgMember(accessToken: string, org: string): Promise<boolean>;
  /** Every member's login (all pages), with the app's token. */
  listOrgMembers(org: string): Promise<string[]>;
  /** A user's public SSH keys ("ssh-ed25519 AAAA…"). */
  listUserKeys(login: string): Promise<string[]>;
}

/** GitHub said to slow down; retry after `retryAfterMs`. */
export class GithubRateLimited extends Error {
  constructor(public readonly retryAfterMs: number) {
    super(`GitHub's rate limit is exhausted; retry in ${Math.ceil(retryAfterMs / 1000)} s.`);
  }
}
