// The web role: Express pages, admin, API, and socket.io for live logs and status.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Deps } from "../deps.js";
import { createApp } from "../web/app.js";
import { attachSocket } from "../web/socket.js";
import { runRole } from "./run-role.js";

export interface RunningWeb {
  url: string;
  server: http.Server;
  stop(): Promise<void>;
}

export async function startWeb(deps: Deps): Promise<RunningWeb> {
  const { app, sessionMiddleware } = createApp(deps);
  const server = http.createServer(app);
  const live = await attachSocket(server, deps, sessionMiddleware);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.config.PORT, deps.config.HOST, () => resolve());
  }).catch(async (err) => {
    await live.close();
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const host = deps.config.HOST === "0.0.0.0" ? "127.0.0.1" : deps.config.HOST;
  const url = `http://${host}:${port}`;
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

if (import.meta.url === `file://${process.argv[1]}`) runRole("web", startWeb);
