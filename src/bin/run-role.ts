// Runs one role alone (for scaling out): needs DATABASE_URL and REDIS_URL, starts nothing embedded.
import { loadConfig, ConfigError } from "../config.js";
import { createDeps, closeDeps, type Deps } from "../deps.js";
import { createLogger } from "../logger.js";
import { bootConnections, ensureDataDir } from "./boot.js";
import { createMetrics } from "../metrics.js";
import { serveProcessMetrics } from "../web/routes/metrics.js";

export function runRole(role: string, start: (deps: Deps) => Promise<{ stop(): Promise<void> }>): void {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
    process.exit(0);
  };
  // From the first moment: a start-up that waits for the database or Redis is stopped by them too.
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  (async () => {
    const config = loadConfig();
    if (!config.DATABASE_URL || !config.REDIS_URL) {
      throw new ConfigError(["DATABASE_URL and REDIS_URL: required to run one role alone (use `npm start` for the single-node default)"]);
    }
    ensureDataDir(config.dataDir); // the generated secret key's place, when SECRET_KEY is not set
    const log = createLogger(config.LOG_LEVEL, { role });
    const { conn } = await bootConnections(config, log);
    const deps = createDeps(config, conn, { log, metrics: createMetrics({ processMetrics: true }) });
    stops.push(() => closeDeps(deps));
    stops.push((await start(deps)).stop);
    // The web role serves /metrics on its own port; a worker or scheduler alone, on METRICS_PORT.
    if (role !== "web" && config.METRICS_PORT) {
      const metrics = await serveProcessMetrics(deps, config.METRICS_PORT, config.METRICS_BIND);
      stops.push(() => metrics.close());
    }
  })().catch((err) => {
    process.stderr.write((err instanceof ConfigError ? err.message : `Ocim ${role} could not start: ${(err as Error).message}`) + "\n");
    process.exit(1);
  });
}
