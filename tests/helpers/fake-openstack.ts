// An in-test HTTP server speaking the parts of OpenStack that Ocim uses: Keystone v3 password
// auth (token in X-Subject-Token, service catalog) and Nova servers (create, show, list by name
// regex, delete). Faults on demand: error statuses, slow answers, revoked tokens.
import type http from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { sendJson, serveFake, type FakeHttp, type FakeRequest } from "./http-fake.js";

export interface FakeServer {
  id: string;
  name: string;
  status: string;
  metadata: Record<string, string>;
  request: Record<string, unknown>;
  polls: number;
}

type Service = "keystone" | "nova";

interface Fault {
  service: Service;
  status?: number;
  delayMs?: number;
  message?: string;
  times: number;
}

export class FakeOpenstack {
  username = "ocim-bot";
  password = "s3cret-Pa55word";
  projectName = "ocim";
  domainName = "Default";
  flavors = new Set(["m1.medium"]);
  images = new Set(["ubuntu-22.04"]);
  keyPairs = new Set(["ocim-key"]);
  /** GETs a new server answers BUILD before it turns ACTIVE. */
  buildPolls = 1;
  /** The floating address every ACTIVE server gets. */
  serverAddress = "127.0.0.1";
  tokenLifetimeSeconds = 3600;
  readonly servers = new Map<string, FakeServer>();
  readonly tokens = new Map<string, number>();
  private faults: Fault[] = [];
  private http!: FakeHttp;

  get url(): string {
    return this.http.url;
  }

  /** "METHOD /path" of every request, oldest first. */
  get requests(): string[] {
    return this.http.requests;
  }

  get authUrl(): string {
    return `${this.url}/identity/v3`;
  }

  get authCount(): number {
    return this.requests.filter((r) => r === "POST /identity/v3/auth/tokens").length;
  }

  /** The next `times` requests to the service answer `status` (or are answered after delayMs). */
  fault(service: Service, fault: { status?: number; delayMs?: number; message?: string; times?: number }): void {
    this.faults.push({ service, times: 1, ...fault });
  }

  /** Drops the faults a test did not use up. */
  clearFaults(): void {
    this.faults = [];
  }

  revokeTokens(): void {
    this.tokens.clear();
  }

  async start(): Promise<this> {
    this.http = await serveFake((req, res) => this.handle(req, res));
    return this;
  }

  async stop(): Promise<void> {
    await this.http.stop();
  }

  private async handle(req: FakeRequest, res: http.ServerResponse): Promise<void> {
    const send: Send = (status, data, headers) => sendJson(res, status, data, headers);
    const service: Service = req.url.pathname.startsWith("/identity/") ? "keystone" : "nova";
    const fault = this.faults.find((f) => f.service === service && f.times > 0);
    if (fault) {
      fault.times -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status) return send(fault.status, { error: { code: fault.status, message: fault.message ?? "The service is unavailable (injected fault)." } });
    }
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (service === "keystone") return this.keystone(req.method, req.url, body, send);
    const token = String(req.headers["x-auth-token"] ?? "");
    if (!this.tokens.has(token) || this.tokens.get(token)! < Date.now()) {
      return send(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
    }
    this.nova(req.method, req.url, body, send);
  }

  private keystone(method: string, url: URL, body: Record<string, unknown>, send: Send): void {
    if (method !== "POST" || url.pathname !== "/identity/v3/auth/tokens") return send(404, { error: { code: 404, message: "Not found" } });
    const auth = body.auth as { identity?: { methods?: string[]; password?: { user?: { name?: string; password?: string; domain?: { name?: string } } } }; scope?: { project?: { name?: string; domain?: { name?: string } } } };
    const user = auth?.identity?.password?.user;
    const project = auth?.scope?.project;
    const ok = auth?.identity?.methods?.includes("password") && user?.name === this.username && user.password === this.password && user.domain?.name === this.domainName;
    if (!ok) return send(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
    if (project?.name !== this.projectName || project.domain?.name !== this.domainName) {
      return send(401, { error: { code: 401, title: "Unauthorized", message: `Could not find project: ${project?.name}.` } });
    }
    const token = `gAAAA${randomBytes(24).toString("hex")}`;
    const expiresAt = Date.now() + this.tokenLifetimeSeconds * 1000;
    this.tokens.set(token, expiresAt);
    const endpoint = (iface: string, region: string, path: string) => ({ id: randomUUID(), interface: iface, region, region_id: region, url: `${this.url}${path}` });
    send(
      201,
      {
        token: {
          methods: ["password"],
          expires_at: new Date(expiresAt).toISOString(),
          issued_at: new Date().toISOString(),
          user: { id: "u1", name: this.username, domain: { id: "default", name: this.domainName } },
          project: { id: "p1", name: this.projectName, domain: { id: "default", name: this.domainName } },
          catalog: [
            { type: "identity", name: "keystone", endpoints: [endpoint("public", "RegionOne", "/identity")] },
            {
              type: "compute",
              name: "nova",
              endpoints: [endpoint("internal", "RegionOne", "/internal-compute/v2.1/p1"), endpoint("public", "RegionOne", "/compute/v2.1/p1"), endpoint("public", "RegionTwo", "/compute-two/v2.1/p1")],
            },
          ],
        },
      },
      { "x-subject-token": token },
    );
  }

  private nova(method: string, url: URL, body: Record<string, unknown>, send: Send): void {
    const path = url.pathname.replace(/^\/compute\/v2\.1\/p1/, "");
    if (path === url.pathname) return send(404, { itemNotFound: { code: 404, message: "The resource could not be found." } });
    if (method === "POST" && path === "/servers") return this.create(body, send);
    if (method === "GET" && path === "/servers") {
      const pattern = new RegExp(url.searchParams.get("name") ?? "");
      const servers = [...this.servers.values()].filter((s) => pattern.test(s.name)).map((s) => ({ id: s.id, name: s.name, links: [] }));
      return send(200, { servers });
    }
    const id = decodeURIComponent(path.match(/^\/servers\/([^/]+)$/)?.[1] ?? "");
    const server = this.servers.get(id);
    if (!server) return send(404, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    if (method === "DELETE") {
      this.servers.delete(id);
      return send(204, null);
    }
    if (method !== "GET") return send(405, { error: { code: 405, message: "Method not allowed" } });
    server.polls += 1;
    if (server.status === "BUILD" && server.polls > this.buildPolls) server.status = "ACTIVE";
    const active = server.status === "ACTIVE";
    send(200, {
      server: {
        id,
        name: server.name,
        status: server.status,
        metadata: server.metadata,
        accessIPv4: "",
        addresses: active ? { private: [{ addr: "10.0.0.5", version: 4, "OS-EXT-IPS:type": "fixed" }, { addr: this.serverAddress, version: 4, "OS-EXT-IPS:type": "floating" }] } : {},
      },
    });
  }

  private create(body: Record<string, unknown>, send: Send): void {
    const s = body.server as Record<string, unknown> | undefined;
    const bad = (message: string) => send(400, { badRequest: { code: 400, message } });
    if (!s || typeof s.name !== "string" || !s.name) return bad("Invalid input for field/attribute name.");
    if (!this.flavors.has(String(s.flavorRef))) return bad(`Flavor ${String(s.flavorRef)} could not be found.`);
    if (!this.images.has(String(s.imageRef))) return bad(`Image ${String(s.imageRef)} could not be found.`);
    if (s.key_name !== undefined && !this.keyPairs.has(String(s.key_name))) return bad("Invalid key_name provided.");
    const id = randomUUID();
    this.servers.set(id, { id, name: s.name, status: "BUILD", metadata: (s.metadata as Record<string, string>) ?? {}, request: s, polls: 0 });
    send(202, { server: { id, links: [], adminPass: randomBytes(6).toString("hex"), security_groups: s.security_groups ?? [{ name: "default" }] } });
  }
}

type Send = (status: number, data: unknown, headers?: Record<string, string>) => void;
