import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubRest } from "../src/adapters/github/rest.js";
import { GithubRateLimited } from "../src/adapters/github/port.js";
import { FakeGithub } from "./helpers/fake-github.js";

describe("GitHub REST client", () => {
  let gh: FakeGithub;
  beforeAll(async () => {
    gh = await new FakeGithub().start();
    gh.pageSize = 3;
    for (let i = 0; i < 8; i++) gh.addUser({ login: `member${i}`, keys: i === 2 ? ["ssh-ed25519 AAAA2 a", "ssh-rsa BBBB2 b", "ssh-ed25519 CCCC2 c", "ssh-ed25519 DDDD2 d"] : [] }, "org");
  });
  afterAll(() => gh.stop());

  it("lists every member across pages", async () => {
    const api = createGithubRest({ apiUrl: gh.url, token: gh.appToken });
    expect(await api.listOrgMembers("org")).toEqual(["member0", "member1", "member2", "member3", "member4", "member5", "member6", "member7"]);
    expect(gh.requests.filter((r) => r === "GET /orgs/org/members").length).toBe(3);
  });

  it("lists a user's keys across pages", async () => {
    const api = createGithubRest({ apiUrl: gh.url, token: gh.appToken });
    expect(await api.listUserKeys("member2")).toEqual(["ssh-ed25519 AAAA2 a", "ssh-rsa BBBB2 b", "ssh-ed25519 CCCC2 c", "ssh-ed25519 DDDD2 d"]);
  });

  it("waits out a short rate limit, and gives up on a long one with a clear error", async () => {
    const api = createGithubRest({ apiUrl: gh.url, token: gh.appToken });
    gh.rateLimitNext = 1;
    expect(await api.listUserKeys("member0")).toEqual([]);
    const impatient = createGithubRest({ apiUrl: gh.url, token: gh.appToken, maxRateWaitMs: 10 });
    gh.rateLimitNext = 1;
    await expect(impatient.listOrgMembers("org")).rejects.toBeInstanceOf(GithubRateLimited);
  });

  it("refuses a wrong app token", async () => {
    const api = createGithubRest({ apiUrl: gh.url, token: "wrong" });
    await expect(api.listOrgMembers("org")).rejects.toThrow("GitHub answered 401");
  });
});
