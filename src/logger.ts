// pino with dotted event names and bound ids (STYLE 10). Never console.* in src/.
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: bindings,
    redact: {
      paths: ["password", "*.password", "token", "*.token", "secret", "*.secret", "authorization", "*.authorization", "req.headers.cookie"],
      censor: "[masked]",
    },
  });
}
