// A real web app on an ephemeral port, with real PostgreSQL/Redis and, when asked, the fake GitHub.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../../src/web/app.js";
import { createWebServer } from "../../src/web/http-server.js";
import type { Deps } from "../../src/deps.js";
import { createLoginLink } from "../../src/domain/auth/login-links.js";
import { createTestDeps, type TestDeps } from "./deps.js";
import { Agent } from "./browserless.js";
import { FakeGithub } from "./fake-github.js";

export const TEST_ORG = "ocim-test-org";

export interface TestApp {
  deps: TestDeps;
  url: string;
  github: FakeGithub;
  server: http.Server;
  agent(): Agent;
  /** An agent logged in through the fake GitHub as `login` (a member of the org, made admin when asked). */
  loginAs(login: string, opts?: { admin?: boolean }): Promise<Agent>;
  /** An agent logged in as the local admin through a one-time link. */
  loginAsLocalAdmin(): Promise<Agent>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, overrides: Partial<Deps> = {}): Promise<TestApp> {
  const github = await new FakeGithub().start();
  // The web role's own server (src/bin/web.ts), so every page a test reads is served as in production.
  const { server, serve } = createWebServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const deps = await createTestDeps({
    PUBLIC_URL: url,
    PORT: String(port),
    GITHUB_CLIENT_ID: "test-client-id",
    GITHUB_CLIENT_SECRET: "test-client-secret",
    GITHUB_URL: github.url,
    GITHUB_API_URL: github.url,
    GITHUB_ORG: TEST_ORG,
    ...env,
  }, overrides);
  serve(createApp(deps).app);
  const testApp: TestApp = {
    deps,
    url,
    github,
    server,
    agent: () => new Agent(url),
    async loginAs(login, opts = {}) {
      github.addUser({ login }, TEST_ORG);
      github.browserUser = login;
      const agent = new Agent(url);
      const res = await agent.get("/auth/github");
      if (res.status !== 200) throw new Error(`login as ${login} failed: ${res.status} ${res.text.slice(0, 200)}`);
      if (opts.admin) await deps.db.user.update({ where: { githubLogin: login }, data: { role: "admin" } });
      return agent;
    },
    async loginAsLocalAdmin() {
      const token = await createLoginLink(deps);
      const agent = new Agent(url);
      await agent.get(`/login/${token}`);
      return agent;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await github.stop();
      await deps.close();
    },
  };
  return testApp;
}

/** The real app on an ephemeral port over deps a test made itself; an agent logged in as the local admin. */
export async function serveAs(deps: TestDeps): Promise<{ agent: Agent; close(): Promise<void> }> {
  const { server, serve } = createWebServer();
  serve(createApp(deps).app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const agent = new Agent(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await agent.get(`/login/${await createLoginLink(deps)}`);
  return {
    agent,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
