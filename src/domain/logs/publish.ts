// Stored log lines go to Redis; every web process relays them to the room appserver:<id>
// (src/web/socket.ts). The one way to publish lines, for the LogWriter and the provisioning run
// log alike. Publish only lines whose insert has committed: a viewer fetches what it missed by seq.
import type { Deps } from "../../deps.js";
import { logChannel, type LogLevel, type LogLinesMessage } from "./live-channels.js";

export interface PublishedLine {
  seq: number;
  level: LogLevel;
  text: string;
  /** When stored: ms since epoch, or an ISO time. */
  at: number | string;
}

export async function publishLogLines(deps: Pick<Deps, "redis">, appServerId: number, lines: readonly PublishedLine[]): Promise<void> {
  if (lines.length === 0) return;
  const message: LogLinesMessage = {
    appServerId,
    lines: lines.map((l) => ({ seq: l.seq, level: l.level, text: l.text, at: typeof l.at === "number" ? new Date(l.at).toISOString() : l.at })),
  };
  await deps.redis.publish(logChannel(appServerId), JSON.stringify(message));
}
