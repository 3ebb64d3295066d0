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
    // Hourly: a new instance gets its certificate within the hour, and a failed order is retried
    // hourly, within Let's Encrypt's limit of 5 failed validations per hostname per hour.
    [JOB.certificateRenewal]: "30 * * * *",
    // Once a day, in the morning: certificates about to expire, and what the next cleanup removes.
    [JOB.dailyNotifications]: "0 8 * * *",
    [JOB.pollPullRequests]: everyMinutes(config.PR_SANDBOX_POLL_MINUTES),
    // A missed advance-rollout costs a roll-out at most a minute.
    [JOB.advanceRollouts]: "* * * * *",
  };
}

// Whether an expression fires at a minute: node-cron's own matcher (its timezone and its syntax, the
// same rules CLEANUP_CRON was validated with), one per expression. The tasks are never started.
const matchers = new Map<string, ScheduledTask>();
function firesAt(expression: string, minute: Date): boolean {
  let task = matchers.get(expression);
  if (!task) matchers.set(expression, (task = cron.createTask(expression, () => {})));
  return task.match(minute);
}

const NEXT_RUN_HORIZON_MINUTES = 31 * 24 * 60;

/**
 * The first minute after `after` at which `expression` fires, by node-cron's own matcher, or null
 * when that is more than 31 days away. (node-cron's getNextRuns reads the system clock; this takes
 * the caller's.) The built-in schedules fire at least daily, so this looks at ≤ 1,440 minutes.
 */
export function nextRunAfter(expression: string, after: Date): Date | null {
  const first = Math.floor(after.getTime() / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < NEXT_RUN_HORIZON_MINUTES; i++) {
    const minute = new Date(first + i * 60_000);
    if (firesAt(expression, minute)) return minute;
  }
  return null;
}

/** The periodic jobs due at the minute `at` falls in. */
export function dueJobs(config: Deps["config"], at: Date): PeriodicJob[] {
  const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
  return (Object.entries(scheduleTable(config)) as [PeriodicJob, string][]).filter(([, expression]) => firesAt(expression, minute)).map(([name]) => name);
}

/** Enqueues every job due at `at`'s minute, each under its slot id (a second scheduler's adds are no-ops). */
export async function enqueueDue(deps: Pick<Deps, "jobs" | "log" | "config">, at: Date): Promise<PeriodicJob[]> {
  const due = dueJobs(deps.config, at);
  const results = await Promise.allSettled(due.map((name) => enqueuePeriodic(deps, name, at)));
  results.forEach((r, i) => r.status === "rejected" && deps.log.error({ err: r.reason, job: due[i] }, "scheduler.enqueue_failed"));
  return due;
}

/**
 * One node-cron tick a minute; which jobs it enqueues is decided by enqueueDue from the minute the
 * tick was due (ctx.date, not the moment the callback ran after a stalled event loop), so tests
 * decide it with a moved clock instead of waiting for a real minute.
 */
export function startSchedules(deps: Pick<Deps, "jobs" | "log" | "config">): ScheduledTask[] {
  return [cron.schedule("* * * * *", (ctx) => void enqueueDue(deps, ctx.date), { name: "periodic-jobs" })];
}
