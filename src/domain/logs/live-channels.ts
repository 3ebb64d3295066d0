// The Redis channels and message shapes of the live pipeline (DESIGN §7). Workers publish, every
// web process pattern-subscribes once and relays to its own sockets. These names and shapes are a
// contract between processes of different versions during a rolling deploy: extend, never rename.
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One stored line, as the API, the socket and the viewer see it. */
export interface LogLine {
  seq: number;
  level: LogLevel;
  text: string;
  /** ISO time the line was stored. */
  at: string;
}

export interface LogLinesMessage {
  appServerId: number;
  lines: LogLine[];
}

export interface AppServerStatusMessage {
  appServerId: number;
  instanceId: number;
  status: string;
  vmStatus: string;
  isActive?: boolean;
  failureSummary?: string;
  /** ISO time of the change. */
  at: string;
}

const PREFIX = "ocim:live:";
export const LIVE_PATTERN = `${PREFIX}*`;

export function logChannel(appServerId: number): string {
  return `${PREFIX}log:${appServerId}`;
}

export function statusChannel(appServerId: number): string {
  return `${PREFIX}status:${appServerId}`;
}

export type LiveChannel = { kind: "log" | "status"; appServerId: number };

/** The kind and appserver of a channel name, or null for a channel that is not ours. */
const CHANNEL_RE = new RegExp(`^${PREFIX}(log|status):(\\d+)$`);

export function parseLiveChannel(channel: string): LiveChannel | null {
  const m = CHANNEL_RE.exec(channel);
  return m ? { kind: m[1] as LiveChannel["kind"], appServerId: Number(m[2]) } : null;
}

/** socket.io rooms: the log and status of one appserver, and the status of an instance's appservers. */
export const appServerRoom = (id: number) => `appserver:${id}`;
export const instanceRoom = (id: number) => `instance:${id}`;
/** The fleet home's room: told that some appserver changed ("fleet-changed", no content), it renders its panels again. */
export const FLEET_ROOM = "fleet";
