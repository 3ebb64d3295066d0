// GitHub REST over fetch; the base URL comes from settings so GitHub Enterprise and the in-test
// server work the same way.
import type { GithubApi } from "./port.js";

export function createGithubRest(apiUrl: string, timeoutMs = 10_000): GithubApi {
  const base = apiUrl.replace(/\/$/, "");
  return {
    async isOrgMember(accessToken, org) {
      const res = await fetch(`${base}/user/memberships/orgs/${encodeURIComponent(org)}`, {
        headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.status === 404 || res.status === 403) return false;
      if (!res.ok) throw new Error(`GitHub answered ${res.status} for the organization membership`);
      const body = (await res.json()) as { state?: string };
      return body.state === "active";
    },
  };
}
