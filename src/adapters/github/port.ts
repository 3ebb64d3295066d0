// The GitHub calls Ocim makes (login membership now; org members and keys for SSH access later).
export interface GithubUser {
  login: string;
  name: string;
  avatarUrl: string;
}

export interface GithubApi {
  /** True when the user behind accessToken is an active member of org. */
  isOrgMember(accessToken: string, org: string): Promise<boolean>;
}
