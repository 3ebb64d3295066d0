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

  it("refuses a deactivated user even while still in the organization", async () => {
    await t.loginAs("carol");
    await t.deps.db.user.update({ where: { githubLogin: "carol" }, data: { isActive: false } });
    t.github.browserUser = "carol";
    const res = await t.agent().get("/auth/github");
    expect(res.status).toBe(403);
    expect(visibleText(res.text)).toContain("has been deactivated");
  });

  it("sends a logged-out visitor to the login page and back where they were going after login", async () => {
    t.github.addUser({ login: "dave" }, TEST_ORG);
    t.github.browserUser = "dave";
    const agent = t.agent();
    const first = await agent.get("/account/tokens", { follow: false });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe("/login");
    await agent.get("/auth/github");
    const back = await agent.get("/login", { follow: false });
    expect(back.status).toBe(302);
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

  it("answers unknown pages with a real 404 page and sends security headers", async () => {
    const agent = await t.loginAs("gina");
    const res = await agent.get("/no/such/page");
    expect(res.status).toBe(404);
    expect(visibleText(res.text)).toContain("There is no page at /no/such/page.");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
