// `npm start`: the single-node default. Web + worker + scheduler in one process, on embedded
// PostgreSQL and Redis under DATA_DIR unless DATABASE_URL / REDIS_URL are set; and, for instances'
// databases, a MariaDB under DATA_DIR when it is installed and no other MySQL server is configured.
import type { AddressInfo } from "node:net";
import { loadConfig, ConfigError } from "../config.js";
import { createDeps, closeDeps } from "../deps.js";
import { createLogger } from "../logger.js";
import { createLoginLink } from "../domain/auth/login-links.js";
import { ensureLocalBalancer } from "../domain/loadbalancer/ensure-local-balancer.js";
import { applyLoadBalancer } from "../domain/loadbalancer/apply-load-balancer.js";
import { localRuntimePaths, stopLocalHaproxy } from "../adapters/haproxy/local-process.js";
import { startEmbeddedMysql } from "../domain/data/start-embedded-mysql.js";
import { findMariadbd } from "../embedded/mariadb.js";
import { bootConnections, ensureDataDir, migrate, stopChildren } from "./boot.js";
import { startWeb } from "./web.js";
import { claimDataDir, recordConsole, releaseDataDir } from "./console-address.js";
import { startWorker } from "./worker.js";
import { startScheduler } from "./scheduler.js";
import { createMetrics } from "../metrics.js";
import { createMasker } from "../mask-text.js";
import { redisAway } from "../redis.js";

async function main(): Promise<void> {
  const config = loadConfig();
  ensureDataDir(config.dataDir);
  await claimDataDir(config);
  const log = createLogger(config.LOG_LEVEL, { role: "start" });
  const booted = await bootConnections(config, log);
  let stopping = false;
  const stops: (() => Promise<void>)[] = [];
  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "ocim.stopping");
    for (const stop of stops.reverse()) await stop().catch((err) => log.error({ err }, "ocim.stop.failed"));
    await stopChildren(booted.children);
    releaseDataDir(config.dataDir);
    log.info("ocim.stopped");
    process.exit(exitCode);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  try {
    await migrate(booted.conn.databaseUrl).catch((err: Error) => {
      throw new Error(`${config.DATABASE_URL ? "DATABASE_URL" : "The embedded PostgreSQL"}: ${err.message}`);
    });
    const deps = createDeps(config, booted.conn, { log, metrics: createMetrics({ processMetrics: true }) });
    stops.push(() => closeDeps(deps));
    // Before the worker: a launch right after the start finds the instances' MySQL server up.
    const mysql = await startEmbeddedMysql(deps, { dataDir: config.dataDir, mariadbd: findMariadbd() });
    if (mysql.state === "started") stops.push(() => mysql.child.stop());
    const web = await startWeb(deps);
    stops.push(web.stop);
    recordConsole(config.dataDir, (web.server.address() as AddressInfo).port);
    stops.push((await startWorker(deps)).stop);
    stops.push((await startScheduler(deps)).stop);
    const lines = [`Ocim is running at ${web.url}`];
    if (redisAway(deps.redis)) {
      lines.push(`Redis at ${new URL(booted.conn.redisUrl).host} (REDIS_URL) is not reachable: pages answer 503 until it is, and the jobs wait for it.`);
    }
    if (mysql.state === "started") lines.push(`MySQL for instances' databases (embedded MariaDB) at 127.0.0.1:${mysql.port}`);
    if (mysql.state === "missing") lines.push(mysql.message);
    const balancer = await ensureLocalBalancer(deps);
    if (balancer) {
      // Ctrl-C stops what npm start started, the local haproxy included.
      stops.splice(1, 0, () => stopLocalHaproxy(localRuntimePaths(balancer.configPath)));
      try {
        await applyLoadBalancer(deps, { loadBalancerId: balancer.id, force: true });
        lines.push(`Load balancer (haproxy) at http://${config.LB_BIND}:${config.LB_HTTP_PORT}/ (try: curl -H 'Host: <instance domain>' http://${config.LB_BIND}:${config.LB_HTTP_PORT}/)`);
      } catch (err) {
        lines.push(`The local load balancer did not start: ${(err as Error).message}`);
      }
    } else {
      lines.push("HAProxy is not installed, so there is no local load balancer (apt-get install haproxy).");
    }
    if (!config.githubConfigured) {
      const token = await createLoginLink(deps);
      lines.push(
        `No GitHub app is configured. One-time admin login (valid ${config.LOGIN_LINK_MINUTES} min):`,
        `${web.url}/login/${token}`,
      );
    }
    lines.push("Press Ctrl-C to stop.");
    process.stdout.write(lines.join("\n") + "\n");
  } catch (err) {
    log.error({ err }, "ocim.start.failed");
    // The JSON line is for the log; this one for the person who ran `npm start` (a URL's password masked).
    const passwords = [booted.conn.databaseUrl, booted.conn.redisUrl].map((url) => decodeURIComponent(new URL(url).password));
    process.stderr.write(`Ocim could not start: ${createMasker(passwords)((err as Error).message)}\n`);
    await shutdown("error", 1);
  }
}

main().catch((err) => {
  process.stderr.write((err instanceof ConfigError ? err.message : `Ocim could not start: ${(err as Error).message}`) + "\n");
  process.exit(1);
});
