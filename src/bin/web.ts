// The web role: Express pages, admin, API, and socket.io for live logs and status.
import cluster from "node:cluster";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig, reachableHost, type Config } from "../config.js";
import type { Deps } from "../deps.js";
import { createLogger } from "../logger.js";
import { createApp } from "../web/app.js";
import { createWebServer } from "../web/http-server.js";
import { attachSocket } from "../web/socket.js";
import { runRole } from "./run-role.js";

export interface RunningWeb {
  url: string;
  server: http.Server;
  stop(): Promise<void>;
}

export async function startWeb(deps: Deps): Promise<RunningWeb> {
  const { app, sessionMiddleware } = createApp(deps);
  const { server, serve } = createWebServer();
  serve(app);
  // A process of several (WEB_PROCESSES): a long-polling session's requests would reach any of
  // them, so only WebSockets, whose one connection stays with one process (no sticky sessions).
  const live = await attachSocket(server, deps, sessionMiddleware, { websocketOnly: cluster.isWorker });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.config.PORT, deps.config.HOST, () => resolve());
  }).catch(async (err) => {
    await live.close();
    throw new Error(listenFailure(deps.config, err as NodeJS.ErrnoException));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${reachableHost(deps.config.HOST)}:${port}`;
  deps.log.info({ url }, "web.listening");
  return {
    url,
    server,
    stop: async () => {
      const closing = live.close(); // closes the HTTP server too
      server.closeAllConnections();
      await closing;
    },
  };
}

/** Why the console cannot listen, naming the setting to change. */
function listenFailure({ HOST, PORT }: Config, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "EADDRINUSE":
      return `PORT ${PORT}: another program already listens on ${HOST}:${PORT}. Stop it, or set PORT to a free port.`;
    case "EACCES":
      return `PORT ${PORT}: permission denied (a port below 1024 needs privileges). Set PORT to 1024 or above.`;
    case "EADDRNOTAVAIL":
      return `HOST ${HOST}: not an address of this machine.`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `HOST ${HOST}: no such host name.`;
    default:
      return `HOST ${HOST}, PORT ${PORT}: ${err.message}`;
  }
}

/**
 * WEB_PROCESSES > 1: this process only forks that many web processes and watches them. They share
 * PORT through node:cluster (this process accepts the connections and hands them round-robin to its
 * workers), as gunicorn's workers share theirs: one Node process uses one core. Each web process
 * has its own pools and relays Redis's live messages to its own sockets (web/socket.ts), as
 * separate `npm run web` processes do. One that dies after it served is replaced; one that cannot
 * start stops them all, as a single process that cannot start exits.
 */
function runWebProcesses(count: number, logLevel: string): void {
  const log = createLogger(logLevel, { role: "web" });
  let stopping = false;
  const started = new Set<number>();
  cluster.on("listening", (worker) => started.add(worker.id));
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit();
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, "web.process_exited");
    if (started.has(worker.id)) return void cluster.fork();
    stop(1);
  });
  const stop = (code = 0) => {
    stopping = true;
    process.exitCode = code;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code);
  };
  process.on("SIGINT", () => stop());
  process.on("SIGTERM", () => stop());
  for (let i = 0; i < count; i++) cluster.fork();
  log.info({ processes: count }, "web.forked");
}

function main(): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write((err instanceof ConfigError ? err.message : String(err)) + "\n");
    process.exit(1);
  }
  if (cluster.isPrimary && config.WEB_PROCESSES > 1) runWebProcesses(config.WEB_PROCESSES, config.LOG_LEVEL);
  else runRole("web", startWeb);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
