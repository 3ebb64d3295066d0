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

type Outcome = "queued" | "running" | "succeeded" | "partly failed" | "skipped" | "failed";

/** A handler that could do nothing returns "skipped: <why>" (registry.ts): not a success. */
const SKIPPED = "skipped: ";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * What a finished run of a job that works through items did, from its result: what it did, and
 * which items failed (the run itself succeeded, so BullMQ has no error for them).
 */
function itemsOf(name: string, result: unknown, names: Map<number, string>): { did: string; failed: string } | null {
  const r = (result ?? {}) as Record<string, unknown>;
  const ids = (key: string) => (Array.isArray(r[key]) ? (r[key] as unknown[]) : []);
  if (name === "cleanup") {
    const failed = ids("failed") as { id?: number; message?: string }[];
    return {
      did: `Terminated ${plural(ids("terminated").length, "appserver")}, archived ${plural(ids("archived").length, "sandbox", "sandboxes")}.`,
      failed: failed.length ? `${failed.length} not done: ${failed.map((f) => f.message ?? `appserver ${f.id}`).join("; ")}` : "",
    };
  }
  if (name === "certificate-renewal") {
    const failed = ids("failed").length;
    const tried = ids("renewed").length + failed;
    return {
      did: `Ordered ${plural(ids("renewed").length, "certificate")}.`,
      failed: failed ? `${failed} of ${plural(tried, "order")} failed (${ids("failed").map((id) => names.get(Number(id)) ?? `instance ${String(id)}`).join(", ")}): each instance's page says why.` : "",
    };
  }
  return null;
}

/** What the last run of a job did, from BullMQ's record of it (its times are epoch milliseconds). */
function lastRun(job: Job, names: Map<number, string>) {
  const result: unknown = job.returnvalue;
  const skipped = job.finishedOn && !job.failedReason && typeof result === "string" && result.startsWith(SKIPPED) ? result.slice(SKIPPED.length) : null;
  const items = job.finishedOn && !job.failedReason && skipped === null ? itemsOf(job.name, result, names) : null;
  const outcome: Outcome = job.failedReason ? "failed" : skipped !== null ? "skipped" : items?.failed ? "partly failed" : job.finishedOn ? "succeeded" : job.processedOn ? "running" : "queued";
  return {
    outcome,
    queuedAt: new Date(job.timestamp),
    startedAt: job.processedOn ? new Date(job.processedOn) : null,
    durationMs: job.processedOn && job.finishedOn ? job.finishedOn - job.processedOn : null,
    error: job.failedReason ?? items?.failed ?? "",
    /** Why a skipped run did nothing, or what a run that works through items did. */
    reason: skipped ?? items?.did ?? "",
  };
}

export function adminJobRoutes(deps: Deps): Router {
  const router = Router();
  router.use("/jobs", requireAdmin);

  router.get("/jobs", async (_req, res) => {
    const schedule = scheduleTable(deps.config);
    const now = deps.now();
    const recent = await deps.jobs.queue(QUEUE.periodic).getJobs(["completed", "failed", "active", "waiting"], 0, 200);
    const lasts = new Map(PERIODIC_JOBS.map((name) => [name, recent.filter((j) => j.name === name).sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0))[0]]));
    // The instances whose certificate orders failed, by name.
    const failedOrders = (lasts.get("certificate-renewal")?.returnvalue as { failed?: unknown[] } | undefined)?.failed ?? [];
    const ids = failedOrders.map(Number).filter(Number.isInteger);
    const names = new Map((ids.length ? await deps.db.instance.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }) : []).map((i) => [i.id, i.name]));
    const jobs = PERIODIC_JOBS.map((name) => {
      const last = lasts.get(name);
      return { name, cron: schedule[name], next: nextRunAfter(schedule[name], now), last: last ? lastRun(last, names) : null };
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
