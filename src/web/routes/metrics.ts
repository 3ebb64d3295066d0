// GET /metrics: Prometheus text format (prom-client). Open to loopback callers when METRICS_TOKEN
// is unset (a Prometheus on the same host, or `curl` on it); with METRICS_TOKEN set, only to
// `Authorization: Bearer <token>`. The fleet's state is read at scrape time (here, in the web
// process only, so it is counted once); the events of this process come from deps.metrics.
import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { Router, type Request } from "express";
import { Gauge, Registry } from "prom-client";
import type { Deps } from "../../deps.js";
import { QUEUE, type QueueName } from "../../jobs/names.js";
import { AppError } from "../../errors.js";

const APPSERVER_STATUSES = ["new", "waiting", "configuring", "running", "failed", "error", "terminated"] as const;
const JOB_STATES = ["waiting", "active", "delayed", "failed", "prioritized", "waiting-children"] as const;

export function metricsRoutes(deps: Deps): Router {
  const fleet = fleetRegistry(deps);
  const router = Router();
  // Answers in plain text, errors too: the reader is Prometheus or curl, not a browser.
  router.get("/metrics", async (req, res) => {
    try {
      allowed(req, deps.config.METRICS_TOKEN);
      const merged = Registry.merge([deps.metrics.registry, fleet]);
      res.type(merged.contentType).send(await merged.metrics());
    } catch (err) {
      if (err instanceof AppError) {
        if (err.status === 401) res.set("WWW-Authenticate", "Bearer");
        res.status(err.status).type("text").send(err.message + "\n");
        return;
      }
      deps.log.warn({ err }, "metrics.scrape_failed");
      res.status(503).type("text").send("The fleet's state could not be read (is PostgreSQL or Redis away?); the process's own metrics were not sent either.\n");
    }
  });
  return router;
}

/** A worker or scheduler run alone: this process's own metrics (no fleet state: the web has it). */
export async function serveProcessMetrics(deps: Deps, port: number, bind: string): Promise<{ close(): Promise<void> }> {
  const server = http.createServer(async (req, res) => {
    const token = deps.config.METRICS_TOKEN;
    const sent = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    if (token && !sameSecret(sent ?? "", token)) return void res.writeHead(401, { "WWW-Authenticate": "Bearer" }).end();
    res.writeHead(200, { "Content-Type": deps.metrics.registry.contentType }).end(await deps.metrics.registry.metrics());
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, bind, resolve));
  deps.log.info({ port, bind }, "metrics.listening");
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Compares hashes, of equal length, so the time taken says nothing about the token. */
function sameSecret(sent: string, token: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(sent), digest(token));
}

function allowed(req: Request, token: string | undefined): void {
  if (token) {
    const sent = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "";
    if (!sameSecret(sent, token)) throw new AppError("unauthenticated", "Metrics need `Authorization: Bearer <METRICS_TOKEN>`.");
    return;
  }
  if (!fromThisHost(req.ip ?? "", req.socket.remoteAddress ?? "")) {
    throw new AppError("forbidden", "Metrics are served to this host only; set METRICS_TOKEN to scrape them from elsewhere.");
  }
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Whether a caller without METRICS_TOKEN is on this host. `client` is req.ip: the client's address,
 * or, in production (one trusted proxy hop), the one the proxy says it forwarded; `peer` is who
 * opened the connection. Both must be this host: else anyone who reaches PORT directly (HOST=0.0.0.0)
 * could send `X-Forwarded-For: 127.0.0.1` and be taken for a local scraper.
 */
export function fromThisHost(client: string, peer: string): boolean {
  return LOOPBACK.test(client) && LOOPBACK.test(peer);
}

/** The fleet's state, read when Prometheus scrapes. */
function fleetRegistry(deps: Deps): Registry {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: "ocim_appservers",
    help: "Appservers by status (terminated ones included: they are kept for their history).",
    labelNames: ["status"],
    registers,
    async collect() {
      const rows = await deps.db.appServer.groupBy({ by: ["status"], _count: { _all: true } });
      const counts = new Map(rows.map((r) => [r.status as string, r._count._all]));
      for (const status of APPSERVER_STATUSES) this.set({ status }, counts.get(status) ?? 0);
    },
  });
  new Gauge({
    name: "ocim_appservers_active",
    help: "Appservers in the load balancer.",
    registers,
    async collect() {
      this.set(await deps.db.appServer.count({ where: { isActive: true } }));
    },
  });
  new Gauge({
    name: "ocim_queue_jobs",
    help: "Jobs in each queue by state.",
    labelNames: ["queue", "state"],
    registers,
    async collect() {
      for (const queue of Object.values(QUEUE) as QueueName[]) {
        const counts = await deps.jobs.queue(queue).getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: "ocim_load_balancers_out_of_sync",
    help: "Load balancers whose deployed configuration is older than their newest one.",
    registers,
    async collect() {
      const [row] = await deps.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM "LoadBalancer" WHERE "deployedVersion" < "configurationVersion"`;
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: "ocim_certificate_days_left",
    help: "Days until each instance's certificate expires (negative: expired).",
    labelNames: ["instance"],
    registers,
    async collect() {
      this.reset(); // an instance deleted since the last scrape loses its series
      const certificates = await deps.db.instanceCertificate.findMany({
        where: { notAfter: { not: null } },
        select: { notAfter: true, instance: { select: { slug: true } } },
      });
      const now = deps.now().getTime();
      for (const c of certificates) this.set({ instance: c.instance.slug }, Math.floor((c.notAfter!.getTime() - now) / 86_400_000));
    },
  });
  return registry;
}
