// An in-test HTTP server speaking the parts of OpenStack that Ocim uses, with the shapes and the
// refusals of the real services (each behaviour names the API reference it follows):
// - Keystone v3 (https://docs.openstack.org/api-ref/identity/v3/, "Password authentication with
//   scoped authorization", "Authenticating with an Application Credential"): token in
//   X-Subject-Token, service catalog; password auth scoped to a project by name + domain or by id;
//   application credentials by id + secret, which carry their own project and refuse a scope.
// - Nova (https://docs.openstack.org/api-ref/compute/): create/show/list/delete servers, flavors.
// - Glance v2 (https://docs.openstack.org/api-ref/image/v2/): list images by name, show by id.
// - Neutron (https://docs.openstack.org/api-ref/network/v2/): networks, ports, floating IPs.
// Faults on demand: error statuses, slow answers, revoked tokens.
import type http from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { sendJson, serveFake, type FakeHttp, type FakeRequest } from "./http-fake.js";

export interface FakeServer {
  id: string;
  name: string;
  status: string;
  /** Nova's OS-EXT-STS:task_state: "deleting" between DELETE and the server's disappearance. */
  taskState: string | null;
  metadata: Record<string, string>;
  request: Record<string, unknown>;
  polls: number;
  /** The port Neutron made for the server on its (first) network. */
  portId: string;
  fixedIp: string;
  /** Nova's `fault` of a server in ERROR. */
  fault?: { code: number; message: string; created: string };
  /** Requests left before a deleting server is gone. */
  deleteLeft?: number;
}

export interface FakeNamed {
  id: string;
  name: string;
}

export interface FakeNetwork extends FakeNamed {
  external: boolean;
}

export interface FakeFloatingIp {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  description: string;
  status: string;
}

type Service = "keystone" | "nova" | "glance" | "neutron";

interface Fault {
  service: Service;
  status?: number;
  delayMs?: number;
  message?: string;
  /** Nova wraps the message in a key named after the fault ("badRequest", "forbidden", "conflictingRequest"). */
  key?: string;
  times: number;
}

/** The provider account that points at this fake, as the admin form would store it (credentials encrypted). */
export function fakeOpenstackAccount(cloud: FakeOpenstack, encrypt: (plain: string) => string, settings: Record<string, unknown> = {}) {
  const sshPrivateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n";
  return {
    name: "test cloud",
    kind: "openstack" as const,
    settings: { authUrl: cloud.authUrl, projectName: cloud.projectName, flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key", floatingNetwork: "public", ...settings },
    credentialsEncrypted: encrypt(JSON.stringify({ username: cloud.username, password: cloud.password, sshPrivateKey })),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class FakeOpenstack {
  username = "ocim-bot";
  password = "s3cret-Pa55word";
  projectName = "ocim";
  projectId = "p1";
  domainName = "Default";
  applicationCredentialId = "ac-7d1e";
  applicationCredentialSecret = "appcred-S3cret-value";
  flavors: FakeNamed[] = [{ id: "3", name: "m1.medium" }];
  images: FakeNamed[] = [{ id: "6f1c2a53-9d1e-4c55-8a7e-1a2b3c4d5e6f", name: "ubuntu-22.04" }];
  networks: FakeNetwork[] = [
    { id: "4d7a4c2e-0000-4000-8000-00000000aaaa", name: "private", external: false },
    { id: "4d7a4c2e-0000-4000-8000-00000000eeee", name: "public", external: true },
  ];
  keyPairs = new Set(["ocim-key"]);
  /** GETs a new server answers BUILD before it turns ACTIVE. */
  buildPolls = 1;
  /** When set, a server leaving BUILD goes to ERROR with this as Nova's `fault` (the scheduler found no host…). */
  buildFault: { code: number; message: string } | null = null;
  /** Requests about a deleted server (GET, list) that still see it, task_state "deleting". */
  deletePolls = 1;
  /** Nova's osapi_max_limit: the longest page any list answers, whatever `limit` asks. */
  maxLimit = 1000;
  /** The address each floating IP gets (the tests' guest sshd listens there). */
  floatingAddress = "127.0.0.1";
  tokenLifetimeSeconds = 3600;
  readonly servers = new Map<string, FakeServer>();
  readonly floatingIps = new Map<string, FakeFloatingIp>();
  readonly tokens = new Map<string, number>();
  private faults: Fault[] = [];
  private http!: FakeHttp;
  private fixedCounter = 10;

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

  /** A server another tool (not Ocim) made in the same project, already ACTIVE. */
  addForeignServer(name: string, metadata: Record<string, string> = {}): FakeServer {
    const server = this.newServer(name, metadata, {});
    server.status = "ACTIVE";
    return server;
  }

  /** The next `times` requests to the service answer `status` (or are answered after delayMs). */
  fault(service: Service, fault: { status?: number; delayMs?: number; message?: string; key?: string; times?: number }): void {
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
    const p = req.url.pathname;
    const service: Service = p.startsWith("/identity/") ? "keystone" : p.startsWith("/image/") ? "glance" : p.startsWith("/network/") ? "neutron" : "nova";
    const fault = this.faults.find((f) => f.service === service && f.times > 0);
    if (fault) {
      fault.times -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status) return send(fault.status, { [fault.key ?? "error"]: { code: fault.status, message: fault.message ?? "The service is unavailable (injected fault)." } });
    }
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (service === "keystone") return this.keystone(req.method, req.url, body, send);
    const token = String(req.headers["x-auth-token"] ?? "");
    if (!this.tokens.has(token) || this.tokens.get(token)! < Date.now()) {
      return send(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
    }
    if (service === "glance") return this.glance(req.method, req.url, send);
    if (service === "neutron") return this.neutron(req.method, req.url, body, send);
    this.nova(req.method, req.url, body, send);
  }

  private keystone(method: string, url: URL, body: Record<string, unknown>, send: Send): void {
    if (method !== "POST" || url.pathname !== "/identity/v3/auth/tokens") return send(404, { error: { code: 404, message: "Not found" } });
    const unauthorized = (message = "The request you have made requires authentication.") => send(401, { error: { code: 401, title: "Unauthorized", message } });
    type Auth = {
      identity?: {
        methods?: string[];
        password?: { user?: { name?: string; password?: string; domain?: { name?: string } } };
        application_credential?: { id?: string; secret?: string };
      };
      scope?: { project?: { id?: string; name?: string; domain?: { name?: string } } };
    };
    const auth = body.auth as Auth | undefined;
    const methods = auth?.identity?.methods ?? [];
    if (methods.includes("application_credential")) {
      // Identity v3 "Authenticating with an Application Credential": the credential is bound to
      // its project; a request that also names a scope is refused.
      const cred = auth?.identity?.application_credential;
      if (cred?.id !== this.applicationCredentialId || cred.secret !== this.applicationCredentialSecret) return unauthorized();
      if (auth?.scope) return unauthorized("Application credentials cannot request a scope.");
      return this.issueToken(["application_credential"], send);
    }
    const user = auth?.identity?.password?.user;
    const ok = methods.includes("password") && user?.name === this.username && user.password === this.password && user.domain?.name === this.domainName;
    if (!ok) return unauthorized();
    // "Password authentication with scoped authorization": a project by id, or by name + domain.
    const project = auth?.scope?.project;
    const byId = project?.id !== undefined && project.id === this.projectId;
    const byName = project?.name === this.projectName && project.domain?.name === this.domainName;
    if (!byId && !byName) return unauthorized(`Could not find project: ${project?.id ?? project?.name}.`);
    this.issueToken(["password"], send);
  }

  private issueToken(methods: string[], send: Send): void {
    const token = `gAAAA${randomBytes(24).toString("hex")}`;
    const expiresAt = Date.now() + this.tokenLifetimeSeconds * 1000;
    this.tokens.set(token, expiresAt);
    const endpoint = (iface: string, region: string, path: string) => ({ id: randomUUID(), interface: iface, region, region_id: region, url: `${this.url}${path}` });
    const body = {
      token: {
        methods,
        expires_at: new Date(expiresAt).toISOString(),
        issued_at: new Date().toISOString(),
        user: { id: "u1", name: this.username, domain: { id: "default", name: this.domainName } },
        project: { id: this.projectId, name: this.projectName, domain: { id: "default", name: this.domainName } },
        catalog: [
          { type: "identity", name: "keystone", endpoints: [endpoint("public", "RegionOne", "/identity")] },
          {
            type: "compute",
            name: "nova",
            endpoints: [endpoint("internal", "RegionOne", "/internal-compute/v2.1/p1"), endpoint("public", "RegionOne", "/compute/v2.1/p1"), endpoint("public", "RegionTwo", "/compute-two/v2.1/p1")],
          },
          { type: "image", name: "glance", endpoints: [endpoint("public", "RegionOne", "/image"), endpoint("public", "RegionTwo", "/image")] },
          { type: "network", name: "neutron", endpoints: [endpoint("public", "RegionOne", "/network"), endpoint("public", "RegionTwo", "/network")] },
        ],
      },
    };
    send(201, body, { "x-subject-token": token });
  }

  private nova(method: string, url: URL, body: Record<string, unknown>, send: Send): void {
    const path = url.pathname.replace(/^\/compute(-two)?\/v2\.1\/p1/, "");
    if (path === url.pathname) return send(404, { itemNotFound: { code: 404, message: "The resource could not be found." } });
    if (method === "POST" && path === "/servers") return this.create(body, send);
    if (method === "GET" && (path === "/servers" || path === "/servers/detail")) return this.listServers(url, path === "/servers/detail", send);
    if (method === "GET" && path === "/flavors") {
      // "List Flavors": paginated like servers (limit, marker, flavors_links).
      const page = this.page(this.flavors, url);
      if ("error" in page) return send(400, { badRequest: { code: 400, message: page.error } });
      return send(200, { flavors: page.items.map((f) => ({ ...f, links: [] })), ...(page.next ? { flavors_links: [{ rel: "next", href: page.next }] } : {}) });
    }
    const flavorId = path.match(/^\/flavors\/([^/]+)$/)?.[1];
    if (method === "GET" && flavorId !== undefined) {
      const flavor = this.flavors.find((f) => f.id === decodeURIComponent(flavorId));
      return flavor ? send(200, { flavor: { ...flavor, vcpus: 2, ram: 4096, disk: 40 } }) : send(404, { itemNotFound: { code: 404, message: `Flavor ${flavorId} could not be found.` } });
    }
    // "Show Keypair Details" (compute api-ref): the key pair of the token's user, or 404 itemNotFound.
    const keyName = path.match(/^\/os-keypairs\/([^/]+)$/)?.[1];
    if (method === "GET" && keyName !== undefined) {
      const name = decodeURIComponent(keyName);
      if (!this.keyPairs.has(name)) return send(404, { itemNotFound: { code: 404, message: `Keypair ${name} not found for user u1` } });
      return send(200, { keypair: { name, user_id: "u1", type: "ssh", fingerprint: "7e:eb:ab:24:ba:d1:e1:88:ae:9a:fb:66:53:df:d3:bd", public_key: "ssh-ed25519 AAAA ocim", id: 1, deleted: false } });
    }
    const id = decodeURIComponent(path.match(/^\/servers\/([^/]+)$/)?.[1] ?? "");
    const server = this.visibleServer(id);
    if (!server) return send(404, { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } });
    if (method === "DELETE") {
      // "Delete Server": 204 at once; the server is removed asynchronously and, until then, is
      // still shown and listed with OS-EXT-STS:task_state "deleting".
      server.taskState = "deleting";
      server.deleteLeft ??= this.deletePolls;
      return send(204, null);
    }
    if (method !== "GET") return send(405, { error: { code: 405, message: "Method not allowed" } });
    server.polls += 1;
    if (server.status === "BUILD" && server.polls > this.buildPolls) {
      server.status = this.buildFault ? "ERROR" : "ACTIVE";
      if (this.buildFault) server.fault = { ...this.buildFault, created: new Date().toISOString() };
    }
    send(200, { server: this.serverView(server) });
  }

  /** A server, unless its asynchronous deletion has finished (counted in requests that see it). */
  private visibleServer(id: string): FakeServer | undefined {
    const server = this.servers.get(id);
    if (server?.deleteLeft === undefined) return server;
    if (server.deleteLeft <= 0) {
      this.servers.delete(id);
      // Neutron deletes the server's port with it; a floating IP on it stays allocated, unassociated
      // (network api-ref "Floating IPs": port_id null when not associated).
      for (const fip of this.floatingIps.values()) if (fip.port_id === server.portId) Object.assign(fip, { port_id: null, fixed_ip_address: null, status: "DOWN" });
      return undefined;
    }
    server.deleteLeft -= 1;
    return server;
  }

  private serverView(server: FakeServer) {
    // "Show Server Details": addresses per network; a floating address only once Neutron has
    // associated a floating IP with the server's port ("OS-EXT-IPS:type": "floating").
    const active = server.status === "ACTIVE";
    const floating = [...this.floatingIps.values()].filter((f) => f.port_id === server.portId);
    const addresses = active
      ? { private: [{ addr: server.fixedIp, version: 4, "OS-EXT-IPS:type": "fixed" }, ...floating.map((f) => ({ addr: f.floating_ip_address, version: 4, "OS-EXT-IPS:type": "floating" }))] }
      : {};
    return {
      id: server.id,
      name: server.name,
      status: server.status,
      "OS-EXT-STS:task_state": server.taskState,
      metadata: server.metadata,
      accessIPv4: "",
      addresses,
      ...(server.status === "ERROR" && server.fault ? { fault: server.fault } : {}),
    };
  }

  /** "List Servers" / "List Servers Detailed": name is a regex; pages of at most maxLimit, ordered, with a next link when full. */
  private listServers(url: URL, detail: boolean, send: Send): void {
    const pattern = new RegExp(url.searchParams.get("name") ?? "");
    const all = [...this.servers.keys()].map((id) => this.visibleServer(id)).filter((s): s is FakeServer => Boolean(s && pattern.test(s.name)));
    const view = (s: FakeServer) => (detail ? this.serverView(s) : { id: s.id, name: s.name, links: [] });
    const page = this.page(all, url);
    if ("error" in page) return send(400, { badRequest: { code: 400, message: page.error } });
    send(200, { servers: page.items.map(view), ...(page.next ? { servers_links: [{ rel: "next", href: page.next }] } : {}) });
  }

  /** Pagination by limit + marker (compute api-ref "Paginated collections"): a marker Nova does not know is a 400. */
  private page<T extends { id: string }>(all: T[], url: URL): { items: T[]; next?: string } | { error: string } {
    const limit = Math.min(Number(url.searchParams.get("limit") ?? this.maxLimit) || this.maxLimit, this.maxLimit);
    const marker = url.searchParams.get("marker");
    let start = 0;
    if (marker) {
      const at = all.findIndex((s) => s.id === marker);
      if (at < 0) return { error: `marker [${marker}] not found` };
      start = at + 1;
    }
    const items = all.slice(start, start + limit);
    // A full page gets a next link even when nothing follows; the page after it is empty.
    if (items.length < limit) return { items };
    const next = new URL(url);
    next.searchParams.set("limit", String(limit));
    next.searchParams.set("marker", items.at(-1)!.id);
    return { items, next: next.toString() };
  }

  private create(body: Record<string, unknown>, send: Send): void {
    const s = body.server as Record<string, unknown> | undefined;
    const bad = (message: string) => send(400, { badRequest: { code: 400, message } });
    if (!s || typeof s.name !== "string" || !s.name) return bad("Invalid input for field/attribute name.");
    // Nova takes ids only (compute api-ref "Create Server": flavorRef, imageRef, networks[].uuid);
    // a name there is "not found", a 400 (servers.py create(): FlavorNotFound, ImageNotFound, NetworkNotFound).
    if (!this.flavors.some((f) => f.id === String(s.flavorRef))) return bad("Invalid flavorRef provided.");
    if (!this.images.some((i) => i.id === String(s.imageRef))) return bad("Can not find requested image");
    if (s.key_name !== undefined && !this.keyPairs.has(String(s.key_name))) return bad("Invalid key_name provided.");
    const requested = (s.networks as { uuid?: string }[] | undefined) ?? [];
    for (const n of requested) if (!this.networks.some((net) => net.id === n.uuid)) return bad(`Network ${String(n.uuid)} could not be found.`);
    const tenant = this.networks.filter((n) => !n.external);
    if (!requested.length && tenant.length > 1) {
      // "Create Server" 409: NetworkAmbiguous when no network is given and the project has several.
      return send(409, { conflictingRequest: { code: 409, message: "Multiple possible networks found, use a Network ID to be more specific." } });
    }
    const server = this.newServer(s.name, (s.metadata as Record<string, string>) ?? {}, s);
    send(202, { server: { id: server.id, links: [], adminPass: randomBytes(6).toString("hex"), security_groups: s.security_groups ?? [{ name: "default" }] } });
  }

  private newServer(name: string, metadata: Record<string, string>, request: Record<string, unknown>): FakeServer {
    const id = randomUUID();
    const server: FakeServer = { id, name, status: "BUILD", taskState: null, metadata, request, polls: 0, portId: randomUUID(), fixedIp: `10.0.0.${this.fixedCounter++}` };
    this.servers.set(id, server);
    return server;
  }

  /** Glance v2 "List Images" (filter by name, next link when paginated) and "Show Image" (404 for an unknown or malformed id). */
  private glance(method: string, url: URL, send: Send): void {
    if (method !== "GET") return send(405, { error: { code: 405, message: "Method not allowed" } });
    if (url.pathname === "/image/v2/images") {
      const name = url.searchParams.get("name");
      const all = this.images.filter((i) => name === null || i.name === name);
      const page = this.page(all, url);
      if ("error" in page) return send(400, { message: page.error });
      const next = page.next ? `/v2/images?${new URL(page.next).searchParams}` : undefined;
      return send(200, { images: page.items.map((i) => ({ ...i, status: "active", visibility: "public" })), ...(next ? { next } : {}), first: "/v2/images", schema: "/v2/schemas/images" });
    }
    const id = url.pathname.match(/^\/image\/v2\/images\/([^/]+)$/)?.[1];
    const image = id && UUID.test(id) ? this.images.find((i) => i.id === id) : undefined;
    return image ? send(200, { ...image, status: "active" }) : send(404, { message: `No image found with ID ${id}` });
  }

  /** Neutron v2.0: networks (filter by name), ports (filter by device_id), floating IPs. */
  private neutron(method: string, url: URL, body: Record<string, unknown>, send: Send): void {
    const path = url.pathname.replace(/^\/network/, "");
    const notFound = (what: string) => send(404, { NeutronError: { type: `${what}NotFound`, message: `${what} could not be found.`, detail: "" } });
    const q = url.searchParams;
    if (method === "GET" && path === "/v2.0/networks") {
      const all = this.networks.filter((n) => !q.has("name") || n.name === q.get("name"));
      const page = this.page(all, url);
      if ("error" in page) return send(400, { NeutronError: { type: "BadRequest", message: page.error, detail: "" } });
      return send(200, { networks: page.items.map(networkView), ...(page.next ? { networks_links: [{ rel: "next", href: page.next }] } : {}) });
    }
    const netId = path.match(/^\/v2\.0\/networks\/([^/]+)$/)?.[1];
    if (method === "GET" && netId) {
      const net = this.networks.find((n) => n.id === netId);
      return net ? send(200, { network: networkView(net) }) : notFound("Network");
    }
    if (method === "GET" && path === "/v2.0/ports") {
      const ports = [...this.servers.values()].filter((s) => s.status === "ACTIVE" && (!q.has("device_id") || s.id === q.get("device_id")));
      return send(200, { ports: ports.map((s) => ({ id: s.portId, device_id: s.id, device_owner: "compute:nova", fixed_ips: [{ ip_address: s.fixedIp }] })) });
    }
    if (method === "GET" && path === "/v2.0/floatingips") {
      const match = (f: FakeFloatingIp) => [...q.entries()].every(([k, v]) => String((f as unknown as Record<string, unknown>)[k]) === v);
      return send(200, { floatingips: [...this.floatingIps.values()].filter(match) });
    }
    if (method === "POST" && path === "/v2.0/floatingips") return this.createFloatingIp(body, send);
    const fipId = path.match(/^\/v2\.0\/floatingips\/([^/]+)$/)?.[1];
    if (method === "DELETE" && fipId) return this.floatingIps.delete(fipId) ? send(204, null) : notFound("FloatingIP");
    const fip = fipId ? this.floatingIps.get(fipId) : undefined;
    if (method === "PUT" && fip) {
      // "Update floating IP": associate with a port (404 for an unknown one).
      const portId = (body.floatingip as { port_id?: string } | undefined)?.port_id ?? null;
      const server = [...this.servers.values()].find((s) => s.portId === portId);
      if (portId && !server) return notFound("Port");
      Object.assign(fip, { port_id: portId, fixed_ip_address: server?.fixedIp ?? null, status: portId ? "ACTIVE" : "DOWN" });
      return send(200, { floatingip: fip });
    }
    send(404, { NeutronError: { type: "HTTPNotFound", message: "The resource could not be found.", detail: "" } });
  }

  /** "Create floating IP": floating_network_id must be an external network id (400 otherwise), port_id must exist (404). */
  private createFloatingIp(body: Record<string, unknown>, send: Send): void {
    const f = (body.floatingip ?? {}) as { floating_network_id?: string; port_id?: string; description?: string };
    const net = this.networks.find((n) => n.id === f.floating_network_id);
    if (!net) return send(404, { NeutronError: { type: "NetworkNotFound", message: `Network ${f.floating_network_id} could not be found.`, detail: "" } });
    if (!net.external) return send(400, { NeutronError: { type: "BadRequest", message: `Bad floatingip request: Network ${net.id} is not a valid external network.`, detail: "" } });
    const server = f.port_id ? [...this.servers.values()].find((s) => s.portId === f.port_id) : undefined;
    if (f.port_id && !server) return send(404, { NeutronError: { type: "PortNotFound", message: `Port ${f.port_id} could not be found.`, detail: "" } });
    // One floating IP per fixed IP and external network: a second is a 409 (FloatingIPPortAlreadyAssociated).
    const taken = server && [...this.floatingIps.values()].find((x) => x.port_id === server.portId && x.floating_network_id === net.id);
    if (taken) {
      const message = `Cannot associate floating IP ${this.floatingAddress} with port ${f.port_id} using fixed IP ${server.fixedIp}, as that fixed IP already has a floating IP on external network ${net.id}.`;
      return send(409, { NeutronError: { type: "FloatingIPPortAlreadyAssociated", message, detail: "" } });
    }
    const fip: FakeFloatingIp = {
      id: randomUUID(),
      floating_ip_address: this.floatingAddress,
      floating_network_id: net.id,
      port_id: f.port_id ?? null,
      fixed_ip_address: server?.fixedIp ?? null,
      description: f.description ?? "",
      status: f.port_id ? "ACTIVE" : "DOWN",
    };
    this.floatingIps.set(fip.id, fip);
    send(201, { floatingip: fip });
  }
}

function networkView(n: FakeNetwork) {
  return { id: n.id, name: n.name, "router:external": n.external, status: "ACTIVE", subnets: [] };
}

type Send = (status: number, data: unknown, headers?: Record<string, string>) => void;
