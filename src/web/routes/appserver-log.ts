// The console's appserver page (minimal for now: name, status, live log) and the JSON the log
// viewer fetches for "load earlier" and to fill gaps. Mounted after requireLogin.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { readLog } from "../../domain/logs/read-log.js";
import { renderPage } from "../render.js";
import { logPageJson } from "./api-logs.js";
import { idOr404 } from "./route-helpers.js";

/** Lines rendered with the page; the viewer streams the rest. */
export const PAGE_TAIL_LINES = 200;

export function appServerLogRoutes(deps: Deps): Router {
  const router = Router();

  router.get("/appservers/:id", async (req, res) => {
    const appServer = await getViewableAppServer(deps, { appServerId: idOr404(req.params.id, "AppServer"), user: req.user ?? null });
    const log = await readLog(deps, { appServerId: appServer.id, limit: PAGE_TAIL_LINES });
    await renderPage(res, "appservers/show", { title: `${appServer.name} · ${appServer.instance.name}`, appServer, log });
  });

  router.get("/appservers/:id/log.json", async (req, res) => void res.json(await logPageJson(deps, req)));

  return router;
}
