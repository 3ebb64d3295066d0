// Runs one role alone (for scaling out): needs DATABASE_URL and REDIS_URL, starts nothing embedded.
import { loadConfig, ConfigError } from "../config.js";
import { createDeps, closeDeps, type Deps } from "../deps.js";
import { createLogger } from "../logger.js";
import { bootConnections } from "./boot.js";

export function runRole(role: string, start: (deps: Deps) => Promise<{ stop(): Promise<void> }>): void {
  (async () => {
    const config = loadConfig();
    if (!config.DATABASE_URL || !config.REDIS_URL) {
      throw new ConfigError(["DATABASE_URL and REDIS_URL: required to run one role alone (use `npm start` for the single-node default)"]);
    }
    const log = createLogger(config.LOG_LEVEL, { role });
    const { conn } = await bootConnections(config, log);
    const deps = createDeps(config, conn, { log });
    const running = await start(deps);
    const stop = async () => {
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
