// Admin → Scheduled jobs: what runs when, and "Run now" for each (the same as `ocim run <job>`).
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { PERIODIC_JOBS, QUEUE, type PeriodicJob } from "../../jobs/names.js";
import { scheduleTable } from "../../jobs/schedules.js";
import { recordAuditEvent } from "../../domain/audit/record-audit-event.js";
import { flash, requireAdmin } from "../middleware.js";
import { renderPage } from "../render.js";

export function adminJobRoutes(deps: Deps): Router {
  const router = Router();
  router.use("/jobs", requireAdmin);

  router.get("/jobs", async (_req, res) => {
    const schedule = scheduleTable(deps.config);
    const recent = await deps.jobs.queue(QUEUE.periodic).getJobs(["completed", "failed", "active", "waiting"], 0, 200);
    const jobs = PERIODIC_JOBS.map((name) => {
      const last = recent.filter((j) => j.name === name).sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))[0];
      return {
        name,
        cron: schedule[name],
        last: last ? { at: new Date(last.finishedOn ?? last.timestamp), failed: Boolean(last.failedReason), reason: last.failedReason ?? "" } : null,
      };
    });
    await renderPage(res, "admin-jobs/list", { title: "Scheduled jobs", jobs });
  });

  router.post("/jobs/:name/run", async (req, res) => {
    const name = req.params.name as PeriodicJob;
    if (!(PERIODIC_JOBS as readonly string[]).includes(name)) throw notFound("Job");
    const id = await deps.jobs.enqueue(name, {}, { jobId: `${name}-manual-${Date.now()}`, attempts: 1 });
    await recordAuditEvent(deps.db, {
      actor: { id: req.user!.id, login: req.user!.githubLogin }, action: "job.run_by_hand", subjectType: "Job", subjectId: name, after: { jobId: id },
    });
    flash(req, "ok", `Queued ${name}; a worker runs it now.`);
    res.redirect(303, "/admin/jobs");
  });
  return router;
}
