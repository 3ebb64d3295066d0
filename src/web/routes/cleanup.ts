// The "Cleanup plan" page: what the daily cleanup will do to every live appserver, and why, before
// anything happens; pinning keeps one. A fleet has tens of thousands of live appservers (20,000 on
// the bench fleet made a 15.6 MB page), so the plan is shown a page of rows at a time, and can be
// narrowed to the appservers it would terminate.
import { Router } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { getCleanupPlan } from "../../domain/cleanup/get-cleanup-plan.js";
import { pinAppServer } from "../../domain/appservers/pin-appserver.js";
import { flash } from "../middleware.js";
import { renderPage } from "../render.js";
import { idOr404, parseQuery } from "./route-helpers.js";

/** Rows per page of the plan. */
export const CLEANUP_PAGE_ROWS = 200;

const planQuery = z.object({
  show: z.enum(["terminate"], "use show=terminate to list only the appservers the cleanup would terminate").optional(),
  page: z.coerce.number("a page number").int("a page number").min(1, "pages start at 1").max(10_000, "at most 10000").optional(),
});

/** Where a pin or unpin returns to: the plan's page it was made from, and nowhere else. */
const PLAN_PAGE = /^\/cleanup(\?(show=terminate|page=\d{1,5})(&(show=terminate|page=\d{1,5}))?)?$/;

export function cleanupRoutes(deps: Deps): Router {
  const router = Router();

  router.get("/cleanup", async (req, res) => {
    const { show, page = 1 } = parseQuery(planQuery, req.query);
    const plan = await getCleanupPlan(deps);
    const toTerminate = plan.filter((p) => !p.fate.keep);
    const listed = show === "terminate" ? toTerminate : plan;
    const offset = (page - 1) * CLEANUP_PAGE_ROWS;
    await renderPage(res, "cleanup/plan", {
      title: "Cleanup plan",
      rows: listed.slice(offset, offset + CLEANUP_PAGE_ROWS),
      pager: { offset, page, total: listed.length, filters: { show } },
      live: plan.length,
      toTerminate: toTerminate.length,
      show,
      back: req.originalUrl,
      settings: { failedDays: deps.config.CLEANUP_FAILED_DAYS, inactiveDays: deps.config.CLEANUP_INACTIVE_DAYS, cron: deps.config.CLEANUP_CRON },
    });
  });

  for (const [path, pinned] of [["pin", true], ["unpin", false]] as const) {
    router.post(`/appservers/:id/${path}`, async (req, res) => {
      const appServerId = idOr404(req.params.id, "AppServer");
      await pinAppServer(deps, { appServerId, pinned, actor: { id: req.user!.id, login: req.user!.githubLogin } });
      flash(req, "ok", pinned ? "Pinned: cleanup keeps this appserver." : "Unpinned: cleanup decides by the usual rules again.");
      const back = (req.body as { back?: unknown } | undefined)?.back;
      res.redirect(303, typeof back === "string" && PLAN_PAGE.test(back) ? back : "/cleanup");
    });
  }

  return router;
}
