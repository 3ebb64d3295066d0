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

/** An instance itself changed (maintenance, archive, settings): `{ instanceId, at }`. */
export function instanceChannel(instanceId: number): string {
  return `${PREFIX}instance:${instanceId}`;
}

export interface InstanceChangedMessage {
  instanceId: number;
  /** ISO time of the announcement. */
  at: string;
}

export type LiveChannel = { kind: "log" | "status"; appServerId: number } | { kind: "instance"; instanceId: number };

/** The kind and appserver (or instance) of a channel name, or null for a channel that is not ours. */
const CHANNEL_RE = new RegExp(`^${PREFIX}(log|status|instance):(\\d+)$`);

export function parseLiveChannel(channel: string): LiveChannel | null {
  const m = CHANNEL_RE.exec(channel);
  if (!m) return null;
  return m[1] === "instance" ? { kind: "instance", instanceId: Number(m[2]) } : { kind: m[1] as "log" | "status", appServerId: Number(m[2]) };
}

/** socket.io rooms: the log and status of one appserver, and the status of an instance's appservers. */
export const appServerRoom = (id: number) => `appserver:${id}`;
export const instanceRoom = (id: number) => `instance:${id}`;
/** The fleet home's room: told that some appserver changed ("fleet-changed", no content), it renders its panels again. */
export const FLEET_ROOM = "fleet";
