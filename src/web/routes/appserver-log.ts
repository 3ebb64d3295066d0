// The console's appserver page (status, step, authenticated link, actions, frozen configuration,
// live log), the JSON the log viewer reads lines, search hits and the outline from, and the raw
// log as a download.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { renderPage } from "../render.js";
import { getAppServerDetail } from "../../domain/appservers/get-appserver-detail.js";
import { LOCAL_NOT_ISOLATED } from "../../adapters/provider/local.js";
import { tailBounds } from "../../domain/logs/log-bounds.js";
import { logOutlineJson, logPageJson, logSearchJson, sendRawLog } from "./api-logs.js";
import { idOr404, parseQuery } from "./route-helpers.js";
import { getSshCommand } from "../../domain/sshkeys/get-ssh-command.js";
import { DIFF_AGAINST, diffAppServerConfiguration } from "../../domain/appservers/diff-appserver-configuration.js";
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { redirectKeepingFlash } from "../middleware.js";
import { appServerPathById } from "../../domain/appservers/locate-appserver.js";

const diffQuery = z.object({ against: z.enum(DIFF_AGAINST, "instance or previous").default("instance") });

/**
 * Lines rendered with the page; the viewer fetches the rest as they come into view. At the log's end
 * it shows the lines in view plus 40 above (70 in a 900 px window, 88 in 1440 px), so these fill it
 * without a fetch. They were 200: then they were 58 of the page's 69 KB, and this page answered
 * 4.0–4.5× the Django change form; with 100, 710–770 req/s against 475–540 (issue 17).
 */
export const PAGE_TAIL_LINES = 100;

export function appServerLogRoutes(deps: Deps): Router {
  const router = Router();

  // The old address of the page, by database id: links and bookmarks made before keep working.
  router.get("/appservers/:id", async (req, res) => redirectKeepingFlash(req, res, await appServerPathById(deps, { id: idOr404(req.params.id, "AppServer") })));

  router.get("/instances/:instanceId/appservers/:number", async (req, res) => {
    const appServer = await getAppServerDetail(deps, {
      instanceId: idOr404(req.params.instanceId, "Instance"), number: idOr404(req.params.number, "AppServer"), user: req.user!, logTail: PAGE_TAIL_LINES,
    });
    const log = { ...appServer.logTail, ...tailBounds(appServer.logTail, appServer.status) };
    const ssh = await getSshCommand(deps, { appServer, user: req.user! });
    await renderPage(res, "appservers/show", {
      title: `${appServer.name} · ${appServer.instance.name}`, appServer, log, localNote: LOCAL_NOT_ISOLATED, ssh, now: deps.now(),
      // One per page view: the Relaunch form sent twice launches once.
      launchToken: randomUUID(),
    });
  });

  router.get("/appservers/:id/diff", async (req, res) => {
    const viewable = await getViewableAppServer(deps, { appServerId: idOr404(req.params.id, "AppServer"), user: req.user ?? null });
    const { against } = parseQuery(diffQuery, req.query);
    const diff = await diffAppServerConfiguration(deps, { appServerId: viewable.id, against });
    await renderPage(res, "appservers/diff", { title: `What changed · ${diff.appServer.name} · ${diff.appServer.instanceName}`, diff });
  });

  router.get("/appservers/:id/log.json", async (req, res) => void res.json(await logPageJson(deps, req, idOr404(req.params.id, "AppServer"))));
  router.get("/appservers/:id/log/search.json", async (req, res) => void res.json(await logSearchJson(deps, req, idOr404(req.params.id, "AppServer"))));
  router.get("/appservers/:id/log/outline.json", async (req, res) => void res.json(await logOutlineJson(deps, req, idOr404(req.params.id, "AppServer"))));
  router.get("/appservers/:id/log.txt", (req, res) => sendRawLog(deps, req, res, idOr404(req.params.id, "AppServer")));

  return router;
}
