// The web role: Express pages, admin, API (and socket.io once live logs exist).
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Deps } from "../deps.js";
import { createApp } from "../web/app.js";
import { runRole } from "./run-role.js";

export interface RunningWeb {
  url: string;
  server: http.Server;
  stop(): Promise<void>;
}

export async function startWeb(deps: Deps): Promise<RunningWeb> {
  const { app } = createApp(deps);
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.config.PORT, deps.config.HOST, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = deps.config.HOST === "0.0.0.0" ? "127.0.0.1" : deps.config.HOST;
  const url = `http://${host}:${port}`;
  deps.log.info({ url }, "web.listening");
  return {
    url,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) runRole("web", startWeb);
