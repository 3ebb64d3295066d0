// An in-test HTTP server that speaks the parts of GitHub's OAuth and REST API that Ocim uses,
// so the real passport-github2 strategy and REST client run against it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

export interface FakeGithubUser {
  login: string;
  name?: string;
  keys?: string[];
}

export class FakeGithub {
  readonly users = new Map<string, FakeGithubUser>();
  readonly orgMembers = new Map<string, Set<string>>();
  /** Who "is signed in to GitHub in the browser": the authorize endpoint approves as them. */
  browserUser: string | null = null;
  readonly requests: string[] = [];
  /** Page size of list endpoints (GitHub's real maximum is 100; tests use less to see paging). */
  pageSize = 100;
  /** The app token accepted for org-wide calls (GITHUB_TOKEN). */
  appToken = "ghp_app_token";
  /** Answer this many next calls with a rate-limit 403 (retry-after 1 s). */
  rateLimitNext = 0;
  private readonly codes = new Map<string, string>();
  private readonly tokens = new Map<string, string>();
  private server!: http.Server;
  url = "";

  addUser(user: FakeGithubUser, org?: string): void {
    this.users.set(user.login, user);
    if (org) this.addMember(org, user.login);
  }

  addMember(org: string, login: string): void {
    if (!this.orgMembers.has(org)) this.orgMembers.set(org, new Set());
    this.orgMembers.get(org)!.add(login);
  }

  removeMember(org: string, login: string): void {
    this.orgMembers.get(org)?.delete(login);
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}`);
    const body = await new Promise<string>((r) => {
      let b = "";
      req.on("data", (c) => (b += c));
      req.on("end", () => r(b));
    });
    const json = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(data));
    };

    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      const redirect = new URL(url.searchParams.get("redirect_uri") ?? "");
      if (!this.browserUser) return json(401, { message: "not signed in to the fake GitHub" });
      const code = randomBytes(8).toString("hex");
      this.codes.set(code, this.browserUser);
      redirect.searchParams.set("code", code);
      redirect.searchParams.set("state", url.searchParams.get("state") ?? "");
      if (!url.searchParams.get("state")) redirect.searchParams.delete("state");
      res.writeHead(302, { location: redirect.toString() });
      return void res.end();
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const params = new URLSearchParams(body);
      const login = this.codes.get(params.get("code") ?? "");
      if (!login) return json(200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
      this.codes.delete(params.get("code")!);
      const token = `gho_${randomBytes(10).toString("hex")}`;
      this.tokens.set(token, login);
      return json(200, { access_token: token, token_type: "bearer", scope: "read:org" });
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext -= 1;
      return json(403, { message: "API rate limit exceeded" }, { "x-ratelimit-remaining": "0", "retry-after": "1" });
    }
    const auth = req.headers.authorization ?? "";
    const bearer = auth.replace(/^(token|Bearer) /i, "");
    const page = <T>(items: T[]) => {
      const n = Math.max(1, Number(url.searchParams.get("page") ?? 1));
      const size = Math.min(this.pageSize, Number(url.searchParams.get("per_page") ?? 30));
      const slice = items.slice((n - 1) * size, n * size);
      const headers: Record<string, string> = {};
      if (n * size < items.length) {
        const next = new URL(url);
        next.searchParams.set("page", String(n + 1));
        headers.link = `<${next.toString()}>; rel="next", <${this.url}${url.pathname}?page=1>; rel="first"`;
      }
      json(200, slice, headers);
    };
    const orgMembers = url.pathname.match(/^\/orgs\/([^/]+)\/members$/);
    if (orgMembers) {
      if (bearer !== this.appToken) return json(401, { message: "Bad credentials" });
      const members = [...(this.orgMembers.get(decodeURIComponent(orgMembers[1]!)) ?? [])].sort();
      return page(members.map((login, i) => ({ login, id: 5000 + i })));
    }
    const keys = url.pathname.match(/^\/users\/([^/]+)\/keys$/);
    if (keys) {
      // Logins are case-insensitive on GitHub.
      const wanted = decodeURIComponent(keys[1]!).toLowerCase();
      const user = [...this.users.values()].find((u) => u.login.toLowerCase() === wanted);
      if (!user) return json(404, { message: "Not Found" });
      return page((user.keys ?? []).map((key, i) => ({ id: 9000 + i, key })));
    }
    const login = this.tokens.get(auth.replace(/^(token|Bearer) /i, ""));
    if (url.pathname === "/user") {
      if (!login) return json(401, { message: "Bad credentials" });
      const u = this.users.get(login)!;
      return json(200, { login: u.login, id: 1000 + [...this.users.keys()].indexOf(login), name: u.name ?? u.login, avatar_url: "", html_url: `${this.url}/${u.login}` });
    }
    const membership = url.pathname.match(/^\/user\/memberships\/orgs\/([^/]+)$/);
    if (membership) {
      if (!login) return json(401, { message: "Bad credentials" });
      const org = decodeURIComponent(membership[1]!);
      if (!this.orgMembers.get(org)?.has(login)) return json(404, { message: "Not Found" });
      return json(200, { state: "active", role: "member", organization: { login: org }, user: { login } });
    }
    json(404, { message: "Not Found" });
  }
}
