// The "Cleanup plan" page: what the daily cleanup will do to every live appserver, and why, before
// anything happens; pinning keeps one.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { getCleanupPlan } from "../../domain/cleanup/get-cleanup-plan.js";
import { pinAppServer } from "../../domain/appservers/pin-appserver.js";
import { flash } from "../middleware.js";
import { renderPage } from "../render.js";
import { idOr404 } from "./route-helpers.js";

export function cleanupRoutes(deps: Deps): Router {
  const router = Router();

  router.get("/cleanup", async (_req, res) => {
    const plan = await getCleanupPlan(deps);
    await renderPage(res, "cleanup/plan", {
      title: "Cleanup plan",
      plan,
      toTerminate: plan.filter((p) => !p.fate.keep).length,
      settings: { failedDays: deps.config.CLEANUP_FAILED_DAYS, inactiveDays: deps.config.CLEANUP_INACTIVE_DAYS, cron: deps.config.CLEANUP_CRON },
    });
  });

  for (const [path, pinned] of [["pin", true], ["unpin", false]] as const) {
    router.post(`/appservers/:id/${path}`, async (req, res) => {
      const appServerId = idOr404(req.params.id, "AppServer");
      await pinAppServer(deps, { appServerId, pinned, actor: { id: req.user!.id, login: req.user!.githubLogin } });
      flash(req, "ok", pinned ? "Pinned: cleanup keeps this appserver." : "Unpinned: cleanup decides by the usual rules again.");
      res.redirect(303, "/cleanup");
    });
  }

  return router;
}
