// GET /metrics as Prometheus (or curl) reads it: the fleet's state from the database and the
// queues, and who may read it (loopback without a token; a bearer token when METRICS_TOKEN is set).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer } from "./helpers/lb.js";
import { sample } from "./helpers/metrics.js";
import { fromThisHost } from "../src/web/routes/metrics.js";

const TOKEN = "metrics-token-0123456789";

describe("GET /metrics", () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    const site = await makeInstance(t.deps, { name: "Site", slug: "site" });
    await makeAppServer(t.deps, site.id, { status: "running", isActive: true });
    await makeAppServer(t.deps, site.id, { status: "running" });
    await makeAppServer(t.deps, site.id, { status: "failed" });
    await makeAppServer(t.deps, site.id, { status: "configuring" });
    await t.deps.db.instanceCertificate.create({
      data: { instanceId: site.id, domains: ["site.example.test"], notAfter: new Date(t.deps.now().getTime() + 20.5 * 86_400_000) },
    });
    await makeLoadBalancer(t.deps, { configurationVersion: 3, deployedVersion: 2 });
    await t.deps.jobs.enqueue("cleanup", {}, { delay: 60_000 });
  });
  afterAll(() => t?.close());

  it("serves the fleet's state in Prometheus text to a caller on this host", async () => {
    const res = await t.agent().get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    expect(sample(res.text, "ocim_appservers", { status: "running" })).toBe(2);
    expect(sample(res.text, "ocim_appservers", { status: "failed" })).toBe(1);
    expect(sample(res.text, "ocim_appservers", { status: "configuring" })).toBe(1);
    expect(sample(res.text, "ocim_appservers", { status: "terminated" })).toBe(0);
    expect(sample(res.text, "ocim_appservers_active")).toBe(1);
    expect(sample(res.text, "ocim_certificate_days_left", { instance: "site" })).toBe(20);
    expect(sample(res.text, "ocim_load_balancers_out_of_sync")).toBe(1);
    expect(sample(res.text, "ocim_queue_jobs", { queue: "periodic", state: "delayed" })).toBe(1);
    expect(sample(res.text, "ocim_queue_jobs", { queue: "provisioning", state: "waiting" })).toBe(0);
    // The event metrics are declared from the start, so a dashboard finds them before the first event.
    expect(res.text).toContain("# TYPE ocim_provisioning_step_duration_seconds histogram");
    expect(res.text).toContain("# TYPE ocim_log_lines_ingested_total counter");
  });

  it("serves every metric the sample Grafana dashboard (docs/grafana-dashboard.json) plots", async () => {
    const res = await t.agent().get("/metrics");
    const dashboard = readFileSync(new URL("../docs/grafana-dashboard.json", import.meta.url), "utf8");
    const plotted = new Set([...dashboard.matchAll(/\b(ocim_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, "")));
    expect(plotted.size).toBeGreaterThanOrEqual(8);
    for (const name of plotted) expect(res.text, name).toContain(`# TYPE ${name} `);
  });

  it("follows the fleet: a change shows at the next scrape", async () => {
    const other = await makeInstance(t.deps, { name: "Other", slug: "other" });
    await makeAppServer(t.deps, other.id, { status: "terminated" });
    const res = await t.agent().get("/metrics");
    expect(sample(res.text, "ocim_appservers", { status: "terminated" })).toBe(1);
  });
});

describe("GET /metrics with METRICS_TOKEN", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t?.close());

  it("refuses a caller without the token or with a wrong one, in plain text, and serves the right one", async () => {
    const none = await t.agent().get("/metrics");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expect(none.text).toBe("Metrics need `Authorization: Bearer <METRICS_TOKEN>`.\n");
    const wrong = await t.agent().get("/metrics", { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain("ocim_appservers");
    const right = await t.agent().get("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(sample(right.text, "ocim_appservers", { status: "running" })).toBe(0);
  });
});

describe("GET /metrics behind a proxy, without METRICS_TOKEN", () => {
  let t: TestApp;
  beforeAll(async () => {
    // In production the console trusts one proxy: the client is who the proxy says it is.
    t = await startTestApp({ NODE_ENV: "production" });
  });
  afterAll(() => t?.close());

  it("refuses a client the proxy forwarded from elsewhere, and serves one on this host", async () => {
    const remote = await t.agent().get("/metrics", { headers: { "x-forwarded-for": "203.0.113.7" } });
    expect(remote.status).toBe(403);
    expect(remote.text).toBe("Metrics are served to this host only; set METRICS_TOKEN to scrape them from elsewhere.\n");
    const local = await t.agent().get("/metrics", { headers: { "x-forwarded-for": "127.0.0.1" } });
    expect(local.status).toBe(200);
  });

  // The test's requests all come over loopback; the rule itself, for a caller that reached PORT from elsewhere.
  it("refuses a caller that connected from elsewhere, whatever X-Forwarded-For it sent", () => {
    expect(fromThisHost("127.0.0.1", "203.0.113.7")).toBe(false);
    expect(fromThisHost("::ffff:127.0.0.1", "::ffff:198.51.100.2")).toBe(false);
    expect(fromThisHost("203.0.113.7", "127.0.0.1")).toBe(false);
    expect(fromThisHost("127.0.0.1", "::ffff:127.0.0.1")).toBe(true);
  });
});
