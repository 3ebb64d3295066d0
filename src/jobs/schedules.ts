// Periodic jobs: node-cron only enqueues them (never does the work), each with a job id made of
// its name and the minute it is due, so several scheduler processes firing for the same minute
// make one job (BullMQ ignores an add whose id exists).
import cron, { type ScheduledTask } from "node-cron";
import type { Deps } from "../deps.js";
import { JOB, type PeriodicJob } from "./names.js";

export function periodicJobId(name: PeriodicJob, due: Date): string {
  // BullMQ ids may not contain ":"; the minute as digits (UTC) keeps them readable.
  const minute = new Date(Math.floor(due.getTime() / 60_000) * 60_000).toISOString().slice(0, 16).replace(/[-:T]/g, "");
  return `${name}-${minute}`;
}

export async function enqueuePeriodic(deps: Pick<Deps, "jobs" | "log">, name: PeriodicJob, due: Date): Promise<void> {
  const jobId = periodicJobId(name, due);
  await deps.jobs.enqueue(name, {}, { jobId, attempts: 1 });
  deps.log.debug({ job: name, jobId }, "scheduler.enqueued");
}

function everyMinutes(n: number): string {
  return n < 60 ? `*/${n} * * * *` : `0 */${Math.max(1, Math.floor(n / 60))} * * *`;
}

export function scheduleTable(config: Deps["config"]): Record<PeriodicJob, string> {
  return {
    [JOB.cleanup]: config.CLEANUP_CRON,
    [JOB.lbSync]: everyMinutes(config.LB_SYNC_MINUTES),
    [JOB.logPurge]: "15 4 * * *",
    [JOB.sshKeysSync]: everyMinutes(config.SSH_KEYS_SYNC_MINUTES),
    [JOB.orphans]: "45 * * * *",
    // Resumes provisioning that lost its job (docs/provisioning.md): every minute, it is cheap.
    [JOB.reconcile]: "* * * * *",
  };
}

export function startSchedules(deps: Pick<Deps, "jobs" | "log" | "config">): ScheduledTask[] {
  return Object.entries(scheduleTable(deps.config)).map(([name, expression]) =>
    cron.schedule(expression, (ctx) => {
      enqueuePeriodic(deps, name as PeriodicJob, ctx.date).catch((err) => deps.log.error({ err, job: name }, "scheduler.enqueue_failed"));
    }, { name }),
  );
}
