// pino with dotted event names and bound ids (STYLE 10). Never console.* in src/.
import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** Logs to stdout unless given another destination (the CLI keeps stdout for its output). */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: bindings,
    redact: {
      // The URLs of PostgreSQL and Redis carry their passwords (the embedded servers' included).
      paths: [
        "password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization", "req.headers.cookie",
        "databaseUrl", "*.databaseUrl", "redisUrl", "*.redisUrl", "DATABASE_URL", "*.DATABASE_URL", "REDIS_URL", "*.REDIS_URL",
      ],
      censor: "[masked]",
    },
  }, destination);
}
