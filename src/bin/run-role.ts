// Runs one role alone (for scaling out): needs DATABASE_URL and REDIS_URL, starts nothing embedded.
import { loadConfig, ConfigError } from "../config.js";
import { createDeps, closeDeps, type Deps } from "../deps.js";
import { createLogger } from "../logger.js";
import { bootConnections } from "./boot.js";
import { createMetrics } from "../metrics.js";
import { serveProcessMetrics } from "../web/routes/metrics.js";

export function runRole(role: string, start: (deps: Deps) => Promise<{ stop(): Promise<void> }>): void {
  (async () => {
    const config = loadConfig();
    if (!config.DATABASE_URL || !config.REDIS_URL) {
      throw new ConfigError(["DATABASE_URL and REDIS_URL: required to run one role alone (use `npm start` for the single-node default)"]);
    }
    const log = createLogger(config.LOG_LEVEL, { role });
    const { conn } = await bootConnections(config, log);
    const deps = createDeps(config, conn, { log, metrics: createMetrics({ processMetrics: true }) });
    const running = await start(deps);
    // The web role serves /metrics on its own port; a worker or scheduler alone, on METRICS_PORT.
    const metrics = role !== "web" && config.METRICS_PORT ? await serveProcessMetrics(deps, config.METRICS_PORT, config.METRICS_BIND) : null;
    const stop = async () => {
      await metrics?.close();
      await running.stop();
      await closeDeps(deps);
      process.exit(0);
    };
    process.on("SIGINT", () => void stop());
    process.on("SIGTERM", () => void stop());
  })().catch((err) => {
    process.stderr.write((err instanceof ConfigError ? err.message : `Ocim ${role} could not start: ${(err as Error).message}`) + "\n");
    process.exit(1);
  });
}
