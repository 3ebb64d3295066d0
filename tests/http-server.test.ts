// The web role's HTTP server (src/web/http-server.ts): requests and responses born with the served
// app's prototypes, so Express's per-request Object.setPrototypeOf changes nothing.
import type http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { createWebServer } from "../src/web/http-server.js";

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(app: express.Express): Promise<{ url: string; born: boolean[] }> {
  const web = createWebServer();
  server = web.server;
  const born: boolean[] = [];
  web.serve(app);
  // Before Express sees the request: which prototypes did Node give it?
  server.prependListener("request", (req, res) => born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, born };
}

describe("createWebServer", () => {
  it("makes each request and response with the app's own prototypes, before Express handles them", async () => {
    const app = express();
    app.get("/where", (req, res) => res.json({ sameApp: req.app === app && res.app === app, query: req.query.q, host: req.hostname }));
    const { url, born } = await listen(app);
    const res = await fetch(`${url}/where?q=site-42`);
    expect(await res.json()).toEqual({ sameApp: true, query: "site-42", host: "127.0.0.1" });
    expect(born).toEqual([true]);
  });

  it("keeps Express's responses: redirects, statuses, headers and the app's settings", async () => {
    const app = express();
    app.disable("x-powered-by");
    app.get("/old", (_req, res) => res.redirect(301, "/new"));
    app.get("/gone", (_req, res) => res.status(410).type("text").send("gone"));
    const { url, born } = await listen(app);
    const moved = await fetch(`${url}/old`, { redirect: "manual" });
    expect([moved.status, moved.headers.get("location"), moved.headers.get("x-powered-by")]).toEqual([301, "/new", null]);
    const gone = await fetch(`${url}/gone`);
    expect([gone.status, gone.headers.get("content-type"), await gone.text()]).toEqual([410, "text/plain; charset=utf-8", "gone"]);
    const missing = await fetch(`${url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(born).toEqual([true, true, true]);
  });
});
