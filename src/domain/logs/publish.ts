// Stored log lines go to Redis; every web process relays them to the room appserver:<id>
// (src/web/socket.ts). Publish only lines whose insert has committed: a viewer fetches what it
// missed by seq.
import type { Deps } from "../../deps.js";
import { logChannel, type LogLine, type LogLinesMessage } from "./live-channels.js";

export async function publishLogLines(deps: Pick<Deps, "redis">, appServerId: number, lines: LogLine[]): Promise<void> {
  if (lines.length === 0) return;
  const message: LogLinesMessage = { appServerId, lines };
  await deps.redis.publish(logChannel(appServerId), JSON.stringify(message));
}
