// A stand-in for an appserver behind the load balancer: answers every path behind basic auth, like
// the Open edX nginx with COMMON_ENABLE_BASIC_AUTH, with /heartbeat for health checks. It records
// what reached it, so tests can see the headers haproxy sent (each header line apart, so a second
// X-Forwarded-For line is not hidden by Node joining them).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { BasicAuth } from "../../src/domain/instances/secret.js";

export interface SeenRequest {
  path: string;
  host: string;
  authorization: string | undefined;
  /** Every X-Forwarded-For / X-Forwarded-Proto header line it got, in order. */
  forwardedFor: string[];
  forwardedProto: string[];
}

export class FakeAppServer {
  readonly seen: SeenRequest[] = [];
  /** When false, /heartbeat answers 503, as a broken deployment would. */
  healthy = true;
  port = 0;
  private server?: http.Server;

  constructor(readonly label: string, readonly auth: BasicAuth, readonly host = "127.0.0.1") {}

  get expectedAuthorization(): string {
    return `Basic ${Buffer.from(`${this.auth.user}:${this.auth.password}`).toString("base64")}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, this.host, () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }

  heartbeats(): SeenRequest[] {
    return this.seen.filter((r) => r.path === "/heartbeat");
  }

  pageRequests(): SeenRequest[] {
    return this.seen.filter((r) => r.path !== "/heartbeat");
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? "/";
    this.seen.push({
      path, host: req.headers.host ?? "", authorization: req.headers.authorization,
      forwardedFor: req.headersDistinct["x-forwarded-for"] ?? [], forwardedProto: req.headersDistinct["x-forwarded-proto"] ?? [],
    });
    const send = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "text/plain", ...headers });
      res.end(text);
    };
    if (!req.headers.authorization) return send(401, "password required", { "www-authenticate": 'Basic realm="Restricted"' });
    if (req.headers.authorization !== this.expectedAuthorization) return send(401, "wrong password", { "www-authenticate": 'Basic realm="Restricted"' });
    if (path === "/heartbeat") return this.healthy ? send(200, "OK") : send(503, "unhealthy");
    send(200, `served by ${this.label}`);
  }
}
