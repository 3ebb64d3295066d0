// The real app with its socket.io server attached (as src/bin/web.ts does), and real socket.io
// clients that log in with the session cookie of an Agent.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { RequestHandler } from "express";
import { io as connect, type Socket } from "socket.io-client";
import { createApp } from "../../src/web/app.js";
import { attachSocket, type LiveSocketOptions, type LiveSocketServer } from "../../src/web/socket.js";
import type { Deps } from "../../src/deps.js";
import type { LogLine } from "../../src/domain/logs/live-channels.js";
import { startTestApp, type TestApp } from "./app.js";
import type { Agent } from "./browserless.js";

export interface LiveTestApp extends TestApp {
  live: LiveSocketServer;
  sessionMiddleware: RequestHandler;
  /** Another web process's socket server: same PostgreSQL, Redis and sessions, its own port. */
  otherWebProcess(options?: LiveSocketOptions): Promise<{ url: string; close(): Promise<void> }>;
}

/** `env`: extra settings, as for startTestApp (a local VMs' DATA_DIR, for one). */
export async function startLiveApp(options: LiveSocketOptions = {}, env: Record<string, string> = {}): Promise<LiveTestApp> {
  const t = await startTestApp(env);
  await spreadAppServerIds(t.deps);
  // startTestApp keeps its app's session middleware to itself; another one over the same Redis
  // store and secret reads the same sessions.
  const { sessionMiddleware } = createApp(t.deps);
  const live = await attachSocket(t.server, t.deps, sessionMiddleware, options);
  return {
    ...t,
    live,
    sessionMiddleware,
    // What scaling out looks like: one more web process on the same database, Redis and sessions.
    async otherWebProcess(otherOptions = {}) {
      const server = http.createServer();
      const other = await attachSocket(server, t.deps, sessionMiddleware, otherOptions);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => other.close() };
    },
    async close() {
      await live.close();
      await t.close();
    },
  };
}

/** Every test file has its own database but all share one Redis, where the live channels are
 *  named by appserver id: start this file's ids somewhere no other file's are. */
export async function spreadAppServerIds(deps: Pick<Deps, "db">): Promise<void> {
  const start = 1_000_000 + Math.floor(Math.random() * 1_000_000_000);
  await deps.db.$executeRawUnsafe(`SELECT setval('"AppServer_id_seq"', ${start})`);
}

/** The Cookie header a browser logged in as this agent would send. */
export function cookieOf(agent: Agent): string {
  // The helper keeps its cookie jar private; element access is TypeScript's sanctioned way in.
  return agent["cookieHeader"]();
}

const refusals = new WeakMap<Socket, Error>();

/** A client that connects at once (like a page); a refusal is kept for connected() to report. */
export function socketFor(url: string, opts: { cookie?: string; origin?: string } = {}): Socket {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.origin) headers.origin = opts.origin;
  const socket = connect(url, { transports: ["websocket"], extraHeaders: headers, reconnection: false, forceNew: true });
  socket.on("connect_error", (err) => refusals.set(socket, err));
  socket.on("connect", () => refusals.delete(socket));
  return socket;
}

/** Resolves once connected, rejects with the server's refusal (even one that came earlier). */
export function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const refused = refusals.get(socket);
    if (refused) return reject(refused);
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
  });
}

/** The reply of an event with an acknowledgement. */
export function request<T = Record<string, unknown>>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(20_000).emitWithAck(event, payload) as Promise<T>;
}

/** Every line the socket receives for the appserver, in arrival order. */
export function recordLines(socket: Socket, appServerId: number): LogLine[] {
  const seen: LogLine[] = [];
  socket.on("log", (msg: { appServerId: number; lines: LogLine[] }) => {
    if (msg.appServerId === appServerId) seen.push(...msg.lines);
  });
  return seen;
}

/** Waits until a line with seq ≥ `seq` has been recorded. */
export function lineReached(socket: Socket, seen: LogLine[], seq: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (seen.some((l) => l.seq >= seq)) {
        socket.off("log", check);
        resolve();
      }
    };
    socket.on("log", check);
    check();
  });
}

/** A round trip on the socket: anything the server emitted to it before has arrived by then. */
export async function roundTrip(socket: Socket): Promise<void> {
  await request(socket, "unsubscribe", { appServerId: 1 });
}
