// GitHub REST over fetch; the base URL comes from settings so GitHub Enterprise and the in-test
// server work the same way. Lists follow the Link header; rate limits are respected.
import { GithubRateLimited, type GithubApi } from "./port.js";

export interface GithubRestOptions {
  apiUrl: string;
  /** The app's token for org-wide calls (GITHUB_TOKEN). */
  token?: string;
  timeoutMs?: number;
  /** The longest this client waits for a rate limit to reset before giving up. */
  maxRateWaitMs?: number;
}

const MAX_PAGES = 100;

export function createGithubRest(opts: GithubRestOptions): GithubApi {
  const base = opts.apiUrl.replace(/\/$/, "");
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function call(url: string, token: string | undefined): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, {
        headers: {
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const limited = (res.status === 403 || res.status === 429) &&
        (res.headers.get("x-ratelimit-remaining") === "0" || res.headers.has("retry-after"));
      if (!limited) return res;
      const retryAfter = Number(res.headers.get("retry-after"));
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      const waitMs = retryAfter > 0 ? retryAfter * 1000 : reset > 0 ? Math.max(0, reset * 1000 - Date.now()) + 1000 : 60_000;
      if (attempt >= 2 || waitMs > (opts.maxRateWaitMs ?? 60_000)) throw new GithubRateLimited(waitMs);
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  async function list<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    let url: string | null = `${base}${path}${path.includes("?") ? "&" : "?"}per_page=100`;
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const res = await call(url, opts.token);
      if (!res.ok) throw new Error(`GitHub answered ${res.status} for ${path}`);
      out.push(...((await res.json()) as T[]));
      url = nextLink(res.headers.get("link"));
    }
    return out;
  }

  return {
    async isOrgMember(accessToken, org) {
      const res = await call(`${base}/user/memberships/orgs/${encodeURIComponent(org)}`, accessToken);
      if (res.status === 404 || res.status === 403) return false;
      if (!res.ok) throw new Error(`GitHub answered ${res.status} for the organization membership`);
      const body = (await res.json()) as { state?: string };
      return body.state === "active";
    },
    async listOrgMembers(org) {
      const members = await list<{ login: string }>(`/orgs/${encodeURIComponent(org)}/members`);
      return members.map((m) => m.login.toLowerCase());
    },
    async listUserKeys(login) {
      const keys = await list<{ key: string }>(`/users/${encodeURIComponent(login)}/keys`);
      return keys.map((k) => k.key.trim());
    },
  };
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
