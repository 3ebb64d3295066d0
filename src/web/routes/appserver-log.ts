// The console's appserver page (status, step, authenticated link, actions, frozen configuration,
// live log) and the JSON the log viewer fetches for "load earlier" and to fill gaps.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { readLog } from "../../domain/logs/read-log.js";
import { renderPage } from "../render.js";
import { getAppServerDetail } from "../../domain/appservers/get-appserver-detail.js";
import { LOCAL_NOT_ISOLATED } from "../../adapters/provider/local.js";
import { logPageJson } from "./api-logs.js";
import { idOr404 } from "./route-helpers.js";
import { redirectKeepingFlash } from "../middleware.js";
import { appServerIdByNumber, appServerPathById } from "../../domain/appservers/locate-appserver.js";

/** Lines rendered with the page; the viewer streams the rest. */
export const PAGE_TAIL_LINES = 200;

export function appServerLogRoutes(deps: Deps): Router {
  const router = Router();

  // The old address of the page, by database id: links and bookmarks made before keep working.
  router.get("/appservers/:id", async (req, res) => redirectKeepingFlash(req, res, await appServerPathById(deps, { id: idOr404(req.params.id, "AppServer") })));

  router.get("/instances/:instanceId/appservers/:number", async (req, res) => {
    const appServerId = await appServerIdByNumber(deps, { instanceId: idOr404(req.params.instanceId, "Instance"), number: idOr404(req.params.number, "AppServer") });
    const viewable = await getViewableAppServer(deps, { appServerId, user: req.user ?? null });
    const [appServer, log] = await Promise.all([
      getAppServerDetail(deps, { id: viewable.id, user: req.user! }),
      readLog(deps, { appServerId: viewable.id, limit: PAGE_TAIL_LINES }),
    ]);
    await renderPage(res, "appservers/show", { title: `${appServer.name} · ${appServer.instance.name}`, appServer, log, localNote: LOCAL_NOT_ISOLATED });
  });

  router.get("/appservers/:id/log.json", async (req, res) => void res.json(await logPageJson(deps, req)));

  return router;
}
