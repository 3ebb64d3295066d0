import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_ORG, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";

describe("GitHub login", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_GITHUB_LOGINS: "boss" });
  });
  afterAll(() => t.close());

  it("lets a member of the organization in, as an operator, and records the user", async () => {
    const agent = await t.loginAs("alice");
    const home = await agent.get("/");
    expect(home.status).toBe(200);
    expect(home.url).toBe(`${t.url}/`);
    const user = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "alice" } });
    expect(user.role).toBe("operator");
    expect(user.lastLoginAt).not.toBeNull();
    expect(t.github.requests).toContain(`GET /user/memberships/orgs/${TEST_ORG}`);
  });

  it("makes the logins of ADMIN_GITHUB_LOGINS admins", async () => {
    await t.loginAs("boss");
    const user = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "boss" } });
    expect(user.role).toBe("admin");
  });

  it("refuses a GitHub user who is not a member, with a page that says why", async () => {
    t.github.addUser({ login: "mallory" });
    t.github.browserUser = "mallory";
    const agent = t.agent();
    const res = await agent.get("/auth/github");
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain(`Only members of the GitHub organization "${TEST_ORG}" may use this console, and mallory is not one.`);
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "mallory" } })).toBeNull();
    const home = await agent.get("/");
    expect(home.url).toBe(`${t.url}/login`);
  });

  it("refuses GitHub's answer when it carries no state or another browser's, and logs nobody in (login CSRF)", async () => {
    t.github.addUser({ login: "attacker" }, TEST_ORG);
    t.github.browserUser = "attacker";
    // The attacker starts a login in their own browser and stops at GitHub's answer...
    const attackersAnswer = async () => {
      const start = await t.agent().get("/auth/github", { follow: false });
      const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
      return authorize.headers.get("location")!;
    };
    const forged = await attackersAnswer();
    expect(new URL(forged).searchParams.get("state")).toBeTruthy();
    // ...and has the victim's browser open it: GitHub's answer is not one this browser asked for.
    const victim = t.agent();
    const refused = await victim.get(forged);
    expect(refused.status).toBe(403);
    expect(visibleText(refused.text)).toContain("This login did not start from this console in this browser");
    // The same with the victim's own login under way (another state), and with no state at all.
    await victim.get("/auth/github", { follow: false });
    expect((await victim.get(await attackersAnswer())).status).toBe(403);
    await victim.get("/auth/github", { follow: false });
    const stateless = await victim.get(`/auth/github/callback?code=${t.github.issueCode("attacker")}`);
    expect(stateless.status).toBe(403);
    expect(visibleText(stateless.text)).toContain("This login did not start from this console in this browser");
    expect((await victim.get("/")).url).toBe(`${t.url}/login`);
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "attacker" } })).toBeNull();
  });

  it("says the organization's SAML single sign-on or OAuth App restrictions refused the login, not that the user is no member", async () => {
    const refusals: [Set<string>, string, RegExp][] = [
      [t.github.ssoEnforced, `GitHub would not say whether sso-member is a member of "${TEST_ORG}": the organization enforces SAML single sign-on`,
        new RegExp(`Sign in through the organization's single sign-on at ${t.github.url}/orgs/${TEST_ORG}/sso\\?authorization_request=`)],
      [t.github.oauthRestricted, `GitHub would not say whether sso-member is a member of "${TEST_ORG}": the organization has OAuth App access restrictions and has not approved this console's OAuth app`,
        /An owner of the organization must approve it/],
    ];
    t.github.addUser({ login: "sso-member" }, TEST_ORG);
    t.github.browserUser = "sso-member";
    for (const [orgs, why, todo] of refusals) {
      orgs.add(TEST_ORG);
      try {
        const res = await t.agent().get("/auth/github");
        expect(res.status).toBe(403);
        const text = visibleText(res.text);
        expect(text).toContain(why);
        expect(text).toMatch(todo);
        expect(text).not.toContain("is not one");
      } finally {
        orgs.delete(TEST_ORG);
      }
    }
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "sso-member" } })).toBeNull();
  });

  it("answers a login that GitHub rate-limits at once with when to try again, instead of holding the page for a minute", async () => {
    t.github.addUser({ login: "busy" }, TEST_ORG);
    t.github.browserUser = "busy";
    t.github.secondaryLimit = { status: 403 };
    t.github.secondaryLimitOn = /^\/user\/memberships\//;
    t.github.secondaryLimitNext = 1;
    try {
      const res = await t.agent().get("/auth/github");
      expect(res.status).toBe(503);
      expect(visibleText(res.text)).toContain("GitHub asks this console to slow down: try logging in again in 60 s.");
    } finally {
      t.github.secondaryLimitNext = 0;
      t.github.secondaryLimitOn = /./;
    }
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "busy" } })).toBeNull();
  });

  it("tells an invited user whose invitation is pending to accept it, instead of calling them no member", async () => {
    t.github.addUser({ login: "ivan" });
    t.github.invite(TEST_ORG, "ivan");
    t.github.browserUser = "ivan";
    const res = await t.agent().get("/auth/github");
    expect(res.status).toBe(403);
    const host = new URL(t.github.url).host;
    expect(visibleText(res.text)).toContain(`ivan's invitation to the GitHub organization "${TEST_ORG}" is pending: accept it at ${host}/orgs/${TEST_ORG}/invitation, then log in here again.`);
    expect(visibleText(res.text)).not.toContain("is not one");
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "ivan" } })).toBeNull();
  });

  it("answers a login whose profile fetch (passport's own GET /user) GitHub rate-limits with a page that says so, not a 500", async () => {
    t.github.addUser({ login: "rita" }, TEST_ORG);
    t.github.browserUser = "rita";
    t.github.secondaryLimit = { status: 429 };
    t.github.secondaryLimitOn = /^\/user$/;
    t.github.secondaryLimitNext = 1;
    try {
      const res = await t.agent().get("/auth/github");
      expect(res.status).toBe(503);
      expect(visibleText(res.text)).toContain("GitHub asks this console to slow down (its rate limit): try logging in again in a minute.");
    } finally {
      t.github.secondaryLimitNext = 0;
      t.github.secondaryLimitOn = /./;
      t.github.secondaryLimit = { status: 403 };
    }
    t.github.rateLimitNext = 1; // the primary limit: 403 with x-ratelimit-remaining 0
    const primary = await t.agent().get("/auth/github");
    t.github.rateLimitNext = 0;
    expect(primary.status).toBe(503);
    expect(await t.deps.db.user.findUnique({ where: { githubLogin: "rita" } })).toBeNull();
  });

  it("refuses a deactivated user even while still in the organization", async () => {
    await t.loginAs("carol");
    await t.deps.db.user.update({ where: { githubLogin: "carol" }, data: { isActive: false } });
    t.github.browserUser = "carol";
    const res = await t.agent().get("/auth/github");
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain("has been deactivated");
  });

  it("sends a logged-out visitor to the login page and, after GitHub, back to the page asked for", async () => {
    t.github.addUser({ login: "dave" }, TEST_ORG);
    t.github.browserUser = "dave";
    const agent = t.agent();
    const first = await agent.get("/account/tokens?from=mail#list", { follow: false });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/login?next=%2Faccount%2Ftokens%3Ffrom%3Dmail");
    const login = await agent.get(first.headers.get("location")!);
    expect(login.text).toContain('href="/auth/github?next=%2Faccount%2Ftokens%3Ffrom%3Dmail"');
    const back = await agent.get("/auth/github?next=%2Faccount%2Ftokens%3Ffrom%3Dmail");
    expect(back.url).toBe(`${t.url}/account/tokens?from=mail`);
    expect(visibleText(back.text)).toContain("API tokens");
  });

  // Each would send the freshly logged-in user to another site (an open redirect): the home page instead.
  const foreign = ["https://evil.example/steal", "//evil.example/steal", "/\\evil.example/steal", "http:evil.example", "/\t/evil.example", "javascript:alert(1)", "/logout"];

  it.each(foreign)("after a GitHub login asked to go to %s, lands on the home page of this console", async (target) => {
    const login = `eve-${foreign.indexOf(target)}`;
    t.github.addUser({ login }, TEST_ORG);
    t.github.browserUser = login;
    const agent = t.agent();
    const page = await agent.get(`/login?next=${encodeURIComponent(target)}`);
    expect(page.text).toContain('href="/auth/github"');
    const res = await agent.get(`/auth/github?next=${encodeURIComponent(target)}`);
    expect(res.url).toBe(`${t.url}/`);
  });

  it("sends a one-time link back to the page asked for, and never to another site", async () => {
    const { createLoginLink } = await import("../src/domain/auth/login-links.js");
    const agent = t.agent();
    const asked = await agent.get("/ssh-access", { follow: false });
    expect(asked.headers.get("location")).toBe("/login?next=%2Fssh-access");
    expect((await agent.get(`/login/${await createLoginLink(t.deps)}`)).url).toBe(`${t.url}/ssh-access`);
    const linked = await t.agent().get(`/login/${await createLoginLink(t.deps)}?next=%2Forphans`);
    expect(linked.url).toBe(`${t.url}/orphans`);
    for (const target of ["https://evil.example/", "//evil.example/"]) {
      const res = await t.agent().get(`/login/${await createLoginLink(t.deps)}?next=${encodeURIComponent(target)}`, { follow: false });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toBe("/");
    }
  });

  it("logs out, and refuses a form posted with a stale CSRF token afterwards", async () => {
    const agent = await t.loginAs("erin");
    const token = await agent.csrf("/");
    const out = await agent.post("/logout", { _csrf: token });
    expect(out.url).toBe(`${t.url}/login`);
    const again = await agent.post("/logout", { _csrf: token });
    expect(again.status).toBe(401);
    expect(visibleText(again.text)).toContain("Your session has expired");
  });

  it("refuses a form without a CSRF token and changes nothing", async () => {
    const agent = await t.loginAs("frank");
    const res = await agent.post("/logout", {});
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain("missing or wrong security token");
    expect((await agent.get("/")).url).toBe(`${t.url}/`);
  });

  it("logs in the local admin once with a one-time link", async () => {
    const { createLoginLink } = await import("../src/domain/auth/login-links.js");
    const token = await createLoginLink(t.deps);
    const agent = t.agent();
    const res = await agent.get(`/login/${token}`);
    expect(res.url).toBe(`${t.url}/`);
    const reuse = await t.agent().get(`/login/${token}`);
    expect(reuse.status).toBe(401);
    expect(visibleText(reuse.text)).toContain("already used");
  });

  it("shows the favicon on every page, logged in or not, and /favicon.ico is the same icon, not a login redirect", async () => {
    const visitor = t.agent();
    const login = await visitor.get("/login");
    expect(login.text).toContain('<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">');
    const icon = await visitor.get("/static/favicon.svg");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toContain("image/svg+xml");
    expect(icon.text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const ico = await visitor.get("/favicon.ico", { follow: false });
    expect([ico.status, ico.headers.get("location")]).toEqual([301, "/static/favicon.svg"]);
    // It did not become where the next login returns to.
    t.github.addUser({ login: "iris" }, TEST_ORG);
    t.github.browserUser = "iris";
    expect((await visitor.get("/auth/github")).url).toBe(`${t.url}/`);
  });

  it("lets the browser revalidate the static files, and gives pages no ETag (it would be hashed for nothing)", async () => {
    const agent = await t.loginAs("gina");
    const icon = await agent.get("/static/favicon.svg");
    const tag = icon.headers.get("etag");
    expect(tag).toMatch(/^W\/".+"$/);
    // As a browser revalidates (fetch() itself would add "cache-control: no-cache" to a conditional request).
    const again = await agent.get("/static/favicon.svg", { headers: { "if-none-match": tag!, "cache-control": "max-age=0" } });
    expect(again.status).toBe(304);
    const page = await agent.get("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("etag")).toBeNull();
  });

  it("answers unknown pages with a real 404 page and sends security headers", async () => {
    const agent = await t.loginAs("gina");
    const res = await agent.get("/no/such/page");
    expect(res.status).toBe(404);
    expect(visibleText(res.text)).toContain("There is no page at /no/such/page.");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
