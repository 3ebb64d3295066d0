// Stored log lines go to Redis pub/sub; web processes relay them to socket.io rooms (DESIGN §7).
import type { Deps } from "../../deps.js";

export interface PublishedLine {
  seq: number;
  level: string;
  text: string;
  /** ms since epoch when stored, for latency figures. */
  at: number;
}

export const logChannel = (appServerId: number) => `ocim:log:${appServerId}`;

export async function publishLogLines(deps: Pick<Deps, "redis">, appServerId: number, lines: PublishedLine[]): Promise<void> {
  await deps.redis.publish(logChannel(appServerId), JSON.stringify({ appServerId, lines }));
}
