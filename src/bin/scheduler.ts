// The scheduler role: node-cron that only enqueues periodic jobs (never does the work itself).
import type { Deps } from "../deps.js";
import { scheduleTable, startSchedules } from "../jobs/schedules.js";
import { runRole } from "./run-role.js";

export async function startScheduler(deps: Deps): Promise<{ stop(): Promise<void> }> {
  const tasks = startSchedules(deps);
  deps.log.info({ schedules: Object.keys(scheduleTable(deps.config)).length }, "scheduler.started");
  return { stop: async () => void (await Promise.all(tasks.map((t) => t.stop()))) };
}

if (import.meta.url === `file://${process.argv[1]}`) runRole("scheduler", startScheduler);
