// Admin → Scheduled jobs: what runs when, and "Run now" for each (the same as `ocim run <job>`).
import { Router } from "express";
import type { Job } from "bullmq";
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { PERIODIC_JOBS, QUEUE, type PeriodicJob } from "../../jobs/names.js";
import { nextRunAfter, scheduleTable } from "../../jobs/schedules.js";
import { recordAuditEvent } from "../../domain/audit/record-audit-event.js";
import { flash, requireAdmin } from "../middleware.js";
import { renderPage } from "../render.js";

type Outcome = "queued" | "running" | "succeeded" | "skipped" | "failed";

/** A handler that could do nothing returns "skipped: <why>" (registry.ts): not a success. */
const SKIPPED = "skipped: ";

/** What the last run of a job did, from BullMQ's record of it (its times are epoch milliseconds). */
function lastRun(job: Job) {
  const result: unknown = job.returnvalue;
  const skipped = job.finishedOn && !job.failedReason && typeof result === "string" && result.startsWith(SKIPPED) ? result.slice(SKIPPED.length) : null;
  const outcome: Outcome = job.failedReason ? "failed" : skipped !== null ? "skipped" : job.finishedOn ? "succeeded" : job.processedOn ? "running" : "queued";
  return {
    outcome,
    queuedAt: new Date(job.timestamp),
    startedAt: job.processedOn ? new Date(job.processedOn) : null,
    durationMs: job.processedOn && job.finishedOn ? job.finishedOn - job.processedOn : null,
    error: job.failedReason ?? "",
    /** Why a skipped run did nothing. */
    reason: skipped ?? "",
  };
}

export function adminJobRoutes(deps: Deps): Router {
  const router = Router();
  router.use("/jobs", requireAdmin);

  router.get("/jobs", async (_req, res) => {
    const schedule = scheduleTable(deps.config);
    const now = deps.now();
    const recent = await deps.jobs.queue(QUEUE.periodic).getJobs(["completed", "failed", "active", "waiting"], 0, 200);
    const jobs = PERIODIC_JOBS.map((name) => {
      const last = recent.filter((j) => j.name === name).sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))[0];
      return { name, cron: schedule[name], next: nextRunAfter(schedule[name], now), last: last ? lastRun(last) : null };
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
