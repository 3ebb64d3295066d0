// socket.io for live logs and status (DESIGN §7). Sockets are authenticated with the console's
// session cookie; a socket joins an appserver's or an instance's room only after maySee* says
// yes. Workers publish on Redis; each web process pattern-subscribes ONCE and relays to its own
// sockets (io.local). That is what spans web processes: every message reaches every web process
// from Redis already, so there is no socket.io Redis adapter (it carried no emit: relaying
// through it too would deliver each line once per web process).
import type http from "node:http";
import type { RequestHandler } from "express";
import { Server, type Socket } from "socket.io";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { AppError } from "../errors.js";
import type { SessionUser } from "../domain/auth/login-github-user.js";
import { loadSessionUser } from "../domain/auth/session-user.js";
import { maySeeInstance } from "../domain/auth/may-see.js";
import { getViewableAppServer, type ViewableAppServer } from "../domain/logs/get-viewable-appserver.js";
import { readLog } from "../domain/logs/read-log.js";
import { askRedis, duplicateRedis, isRedisConnectionError } from "../redis.js";
import {
  appServerRoom, FLEET_ROOM, instanceRoom, LIVE_PATTERN, parseLiveChannel, type AppServerStatusMessage,
} from "../domain/logs/live-channels.js";

export interface LiveSocketServer {
  io: Server;
  /** Closes the sockets, the Redis connections and (socket.io does it) the HTTP server. */
  close(): Promise<void>;
}

export interface LiveSocketOptions {
  /** How often connected sockets are checked against their session and user (logout, deactivation). */
  recheckMs?: number;
  /** At most this many missed lines are sent on subscribe; beyond, the viewer restarts from the tail. */
  backlogLines?: number;
  /**
   * No long-polling: for a web process among several sharing a port, where a polling session's
   * next request may reach another process ("Session ID unknown"). A WebSocket stays on one.
   * https://socket.io/docs/v4/using-multiple-nodes/
   */
  websocketOnly?: boolean;
}

interface SocketData {
  user: SessionUser;
}

type LiveSocket = Socket<Record<string, never>, Record<string, never>, Record<string, never>, SocketData>;
type Ack = (reply: unknown) => void;
type SessionRequest = http.IncomingMessage & {
  session?: { passport?: { user?: unknown }; reload(cb: (err?: unknown) => void): void };
};

const subscribeInput = z.object({
  appServerId: z.number().int().positive().max(2_147_483_647),
  afterSeq: z.number().int().min(0).max(2_147_483_647).default(0),
});
const watchInput = z.object({ instanceId: z.number().int().positive().max(2_147_483_647) });

export async function attachSocket(
  httpServer: http.Server, deps: Deps, sessionMiddleware: RequestHandler, options: LiveSocketOptions = {},
): Promise<LiveSocketServer> {
  const relay = duplicateRedis(deps.redis, deps.log);
  const io = new Server(httpServer, {
    // Browsers do not apply CORS to WebSockets: refuse pages of other origins riding on the cookie.
    allowRequest: (req, cb) => cb(null, sameOrigin(req, deps.config.PUBLIC_URL)),
    ...(options.websocketOnly ? { transports: ["websocket" as const] } : {}),
  });
  io.engine.use(sessionMiddleware);
  io.use((socket, next) => {
    authenticate(deps, socket.request as SessionRequest)
      .then((user) => {
        if (!user) return next(new Error("unauthenticated"));
        socket.data.user = user;
        next();
      })
      .catch((err) => {
        deps.log.error({ err }, "socket.auth.failed");
        next(new Error("unavailable"));
      });
  });
  io.on("connection", (socket: LiveSocket) => handleSocket(deps, socket, options.backlogLines ?? 1000));

  relay.on("pmessage", (_pattern: string, channel: string, message: string) => relayMessage(io, channel, message, deps));
  const subscribed = relay.psubscribe(LIVE_PATTERN).catch((err: unknown) => {
    if (!isRedisConnectionError(err)) deps.log.error({ err }, "socket.subscribe.failed");
  });
  // Redis away at start: serve anyway, pages answering 503 until it is back (README); ioredis sends
  // the queued subscription then (maxRetriesPerRequest null), and live updates flow from there.
  await askRedis(relay, deps.config.REDIS_TIMEOUT_MS, () => subscribed).catch(() => undefined);
  const recheck = setInterval(() => void recheckSockets(deps, io), options.recheckMs ?? 60_000);
  recheck.unref();

  return {
    io,
    async close() {
      clearInterval(recheck);
      await io.close();
      relay.disconnect();
    },
  };
}

/** The active user of the session the socket was opened with, or null. */
async function authenticate(deps: Pick<Deps, "db">, req: SessionRequest): Promise<SessionUser | null> {
  const id = req.session?.passport?.user;
  return typeof id === "number" ? loadSessionUser(deps, id) : null;
}

function sameOrigin(req: http.IncomingMessage, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser page: it has no cookie of ours to ride on unless given one
  try {
    const url = new URL(origin);
    return url.host === req.headers.host || (publicUrl !== undefined && url.origin === new URL(publicUrl).origin);
  } catch {
    return false;
  }
}

function handleSocket(deps: Deps, socket: LiveSocket, backlogLines: number): void {
  const log = deps.log.child({ socketId: socket.id, userId: socket.data.user.id });
  const answer = (ack: unknown, work: () => Promise<unknown>) => {
    if (typeof ack !== "function") return;
    work().then((reply) => (ack as Ack)(reply), (err) => (ack as Ack)({ error: toClientError(err, log) }));
  };
  const currentUser = async () => {
    const user = await loadSessionUser(deps, socket.data.user.id);
    if (!user) {
      setImmediate(() => socket.disconnect(true));
      throw new AppError("unauthenticated", "Your account is no longer active.");
    }
    return user;
  };

  socket.on("subscribe", (input: unknown, ack: unknown) =>
    answer(ack, async () => {
      const { appServerId, afterSeq } = parse(subscribeInput, input);
      const appServer = await getViewableAppServer(deps, { appServerId, user: await currentUser() });
      // Join first, then read: a line published meanwhile arrives twice rather than never; the
      // viewer drops seqs it already has.
      await socket.join(appServerRoom(appServerId));
      const missed = await readLog(deps, { appServerId, after: afterSeq, limit: backlogLines });
      const status = statusOf(appServer);
      if (!missed.more) return { lines: missed.lines, reset: false, status };
      const tail = await readLog(deps, { appServerId, limit: backlogLines });
      return { lines: tail.lines, reset: true, more: tail.more, status };
    }),
  );
  socket.on("unsubscribe", (input: unknown, ack: unknown) =>
    answer(ack, async () => {
      const { appServerId } = parse(subscribeInput, input);
      await socket.leave(appServerRoom(appServerId));
      return { ok: true };
    }),
  );
  socket.on("watch-instance", (input: unknown, ack: unknown) =>
    answer(ack, async () => {
      const { instanceId } = parse(watchInput, input);
      const user = await currentUser();
      const instance = await deps.db.instance.findUnique({ where: { id: instanceId }, select: { id: true } });
      if (!instance) throw new AppError("not_found", "Instance not found.");
      if (!maySeeInstance(user, instance)) throw new AppError("forbidden", "You may not see this instance.");
      await socket.join(instanceRoom(instanceId));
      const appServers = await deps.db.appServer.findMany({
        where: { instanceId }, orderBy: { id: "desc" }, take: 200,
        select: { id: true, instanceId: true, name: true, status: true, vmStatus: true, isActive: true, failureSummary: true, statusChangedAt: true },
      });
      return { statuses: appServers.map((a) => statusOf(a)) };
    }),
  );
  // The fleet home: every page may show the whole fleet (maySeeInstance), and the ping it gets
  // carries nothing; the page reads its panels again through its own request.
  socket.on("watch-fleet", (_input: unknown, ack: unknown) =>
    answer(ack, async () => {
      await currentUser();
      await socket.join(FLEET_ROOM);
      return { ok: true };
    }),
  );
}

type StatusFields = Pick<ViewableAppServer, "id" | "instanceId" | "status" | "vmStatus" | "isActive" | "failureSummary" | "statusChangedAt">;

function statusOf(a: StatusFields): AppServerStatusMessage {
  return {
    appServerId: a.id, instanceId: a.instanceId, status: a.status, vmStatus: a.vmStatus, isActive: a.isActive,
    failureSummary: a.failureSummary, at: a.statusChangedAt.toISOString(),
  };
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new AppError("validation", `Bad request: ${parsed.error.issues.map((i) => `${i.path.join(".") || "input"} ${i.message}`).join("; ")}.`);
  }
  return parsed.data;
}

function toClientError(err: unknown, log: Deps["log"]): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  log.error({ err }, "socket.request.failed");
  return { code: "internal", message: "Something went wrong on our side. Reload the page to try again." };
}

/** A worker's message → the sockets of this process in the matching rooms. */
function relayMessage(io: Server, channel: string, message: string, deps: Pick<Deps, "log">): void {
  const target = parseLiveChannel(channel);
  if (!target) return;
  const rooms = io.of("/").adapter.rooms;
  try {
    if (target.kind === "instance") {
      io.local.to(instanceRoom(target.instanceId)).emit("instance", { instanceId: target.instanceId });
      io.local.to(FLEET_ROOM).emit("fleet-changed");
      return;
    }
    if (target.kind === "log") {
      const room = appServerRoom(target.appServerId);
      // Most lines have no viewer: skip the parse.
      if (rooms.get(room)?.size) io.local.to(room).emit("log", JSON.parse(message));
      return;
    }
    const status = JSON.parse(message) as AppServerStatusMessage;
    io.local.to([appServerRoom(target.appServerId), instanceRoom(status.instanceId)]).emit("status", status);
    io.local.to(FLEET_ROOM).emit("fleet-changed");
  } catch (err) {
    deps.log.warn({ err, channel }, "socket.relay.bad_message");
  }
}

/** Disconnects sockets whose session ended (logout, expiry) or whose user was deactivated. */
async function recheckSockets(deps: Pick<Deps, "db" | "log">, io: Server): Promise<void> {
  try {
    const sockets = [...io.of("/").sockets.values()] as LiveSocket[];
    // No page open on this process: nothing to check (and no query that cannot match).
    if (sockets.length === 0) return;
    const ids = [...new Set(sockets.map((s) => s.data.user?.id).filter((id): id is number => typeof id === "number"))];
    const active = new Set(
      (await deps.db.user.findMany({ where: { id: { in: ids }, isActive: true }, select: { id: true } })).map((u) => u.id),
    );
    for (const socket of sockets) {
      if (!active.has(socket.data.user?.id)) {
        socket.disconnect(true);
        continue;
      }
      const req = socket.request as SessionRequest;
      // reload() replaces req.session with what the store holds now; a destroyed session is an error.
      req.session?.reload((err) => {
        if (err || req.session?.passport?.user !== socket.data.user.id) socket.disconnect(true);
      });
    }
  } catch (err) {
    deps.log.warn({ err }, "socket.recheck.failed");
  }
}
