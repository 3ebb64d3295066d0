// Plumbing for in-test HTTP servers that stand in for an external API (OpenStack; GitHub could
// use it too): listen on a free loopback port, record each request, hand over the body as text.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeHttp {
  url: string;
  /** "METHOD /path" of every request, oldest first. */
  requests: string[];
  stop(): Promise<void>;
}

export async function serveFake(handle: (req: FakeRequest, res: http.ServerResponse) => Promise<void> | void): Promise<FakeHttp> {
  const requests: string[] = [];
  let base = "";
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", base);
    requests.push(`${req.method} ${url.pathname}`);
    await handle({ method: req.method ?? "GET", url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") }, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A JSON answer; nothing is written to a client that has gone (a test's timeout gave up on it). */
export function sendJson(res: http.ServerResponse, status: number, data: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(data === null ? "" : JSON.stringify(data));
}
