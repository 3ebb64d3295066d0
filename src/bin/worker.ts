// The worker role: BullMQ workers for every job in src/jobs/registry.ts.
import type { Deps } from "../deps.js";
import { startWorkers } from "../jobs/registry.js";
import { runRole } from "./run-role.js";

export async function startWorker(deps: Deps): Promise<{ stop(): Promise<void> }> {
  const workers = startWorkers(deps);
  deps.log.info({ queues: workers.map((w) => w.name) }, "worker.started");
  return { stop: async () => void (await Promise.all(workers.map((w) => w.close()))) };
}

if (import.meta.url === `file://${process.argv[1]}`) runRole("worker", startWorker);
