import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubRest } from "../src/adapters/github/rest.js";
import { GithubRateLimited, GithubRefused } from "../src/adapters/github/port.js";
import { FakeGithub } from "./helpers/fake-github.js";

describe("GitHub REST client", () => {
  let gh: FakeGithub;
  /** Every wait the client asked for; nothing really sleeps. */
  let waits: number[];
  const client = (opts: { token?: string; maxRateWaitMs?: number } = {}) =>
    createGithubRest({ apiUrl: gh.url, token: gh.appToken, ...opts, sleep: async (ms) => void waits.push(ms) });

  /** A user's OAuth token, from the fake's real code exchange. */
  async function userToken(login: string): Promise<string> {
    const res = await fetch(`${gh.url}/login/oauth/access_token`, { method: "POST", body: new URLSearchParams({ code: gh.issueCode(login) }) });
    return ((await res.json()) as { access_token: string }).access_token;
  }

  beforeAll(async () => {
    gh = await new FakeGithub().start();
    gh.pageSize = 3;
    for (let i = 0; i < 8; i++) gh.addUser({ login: `member${i}`, keys: i === 2 ? ["ssh-ed25519 AAAA2 a", "ssh-rsa BBBB2 b", "ssh-ed25519 CCCC2 c", "ssh-ed25519 DDDD2 d"] : [] }, "org");
    gh.addMember("org", "member3", { public: true });
  });
  afterAll(() => gh.stop());
  beforeAll(() => void (waits = []));

  it("lists every member across pages", async () => {
    expect(await client().listOrgMembers("org")).toEqual(["member0", "member1", "member2", "member3", "member4", "member5", "member6", "member7"]);
    expect(gh.requests.filter((r) => r === "GET /orgs/org/members").length).toBe(3);
  });

  it("lists a user's keys across pages", async () => {
    expect(await client().listUserKeys("member2")).toEqual(["ssh-ed25519 AAAA2 a", "ssh-rsa BBBB2 b", "ssh-ed25519 CCCC2 c", "ssh-ed25519 DDDD2 d"]);
  });

  it("waits out a short primary rate limit until its reset, and gives up on a long one with a clear error", async () => {
    waits = [];
    gh.rateLimitNext = 1;
    expect(await client().listUserKeys("member0")).toEqual([]);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(3000);
    gh.rateLimitNext = 1;
    await expect(client({ maxRateWaitMs: 10 }).listOrgMembers("org")).rejects.toBeInstanceOf(GithubRateLimited);
  });

  it("waits at least a minute on a secondary rate limit without headers (403 or 429), longer each time, within its budget", async () => {
    waits = [];
    gh.secondaryLimit = { status: 403 };
    gh.secondaryLimitNext = 2;
    expect(await client({ maxRateWaitMs: 10 * 60_000 }).listUserKeys("member2")).toHaveLength(4);
    expect(waits).toEqual([60_000, 120_000]);

    waits = [];
    gh.secondaryLimit = { status: 429 };
    gh.secondaryLimitNext = 1;
    expect(await client().listUserKeys("member0")).toEqual([]);
    expect(waits).toEqual([60_000]);

    // Beyond the budget: no second wait, a rate-limit error saying how long GitHub wants.
    waits = [];
    gh.secondaryLimitNext = 2;
    const err = await client().listOrgMembers("org").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GithubRateLimited);
    expect((err as GithubRateLimited).retryAfterMs).toBe(120_000);
    expect(waits).toEqual([60_000]);
    gh.secondaryLimitNext = 0;
  });

  it("waits as long as a secondary limit's retry-after says", async () => {
    waits = [];
    gh.secondaryLimit = { status: 403, retryAfterSeconds: 7 };
    gh.secondaryLimitNext = 1;
    expect(await client().listUserKeys("member0")).toEqual([]);
    expect(waits).toEqual([7000]);
  });

  it("treats a member list redirected to the public members as an error, not as the members", async () => {
    gh.appTokenSeesOrg = false;
    try {
      const err = await client().listOrgMembers("org").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GithubRefused);
      expect((err as GithubRefused).reason).toBe("incomplete_list");
      expect((err as Error).message).toContain("redirected the member list of \"org\" to its public members");
      expect(gh.requests).not.toContain("GET /orgs/org/public_members");
    } finally {
      gh.appTokenSeesOrg = true;
    }
  });

  it("says SAML SSO enforcement is what refused the member list and a user's membership, not that they are no members", async () => {
    gh.addUser({ login: "sam" }, "sso-org");
    const token = await userToken("sam");
    gh.ssoEnforced.add("sso-org");
    const list = await client().listOrgMembers("sso-org").catch((e: unknown) => e);
    expect(list).toBeInstanceOf(GithubRefused);
    expect((list as GithubRefused).reason).toBe("sso_required");
    expect((list as Error).message).toContain("\"sso-org\" enforces SAML single sign-on");
    const member = await client().orgMembership(token, "sso-org").catch((e: unknown) => e);
    expect(member).toBeInstanceOf(GithubRefused);
    expect((member as GithubRefused).reason).toBe("sso_required");
    expect((member as GithubRefused).ssoUrl).toMatch(new RegExp(`^${gh.url}/orgs/sso-org/sso\\?authorization_request=`));
  });

  it("says OAuth App access restrictions are what refused a user's membership", async () => {
    gh.addUser({ login: "olga" }, "restricted-org");
    const token = await userToken("olga");
    gh.oauthRestricted.add("restricted-org");
    const err = await client().orgMembership(token, "restricted-org").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GithubRefused);
    expect((err as GithubRefused).reason).toBe("oauth_app_restricted");
    expect((err as Error).message).toContain("\"restricted-org\" has OAuth App access restrictions");
    // The app's personal access token is not an OAuth app's: its list still works.
    expect(await client().listOrgMembers("restricted-org")).toEqual(["olga"]);
  });

  it("tells a member, an invited user whose invitation is pending, and someone who is neither apart", async () => {
    gh.addUser({ login: "nina" });
    expect(await client().orgMembership(await userToken("nina"), "org")).toBe("none");
    gh.invite("org", "nina");
    expect(await client().orgMembership(await userToken("nina"), "org")).toBe("pending");
    expect(await client().listOrgMembers("org")).not.toContain("nina");
    gh.addUser({ login: "mia" }, "org");
    expect(await client().orgMembership(await userToken("mia"), "org")).toBe("active");
  });

  it("refuses a wrong app token", async () => {
    await expect(client({ token: "wrong" }).listOrgMembers("org")).rejects.toThrow("GitHub answered 401");
  });
});
