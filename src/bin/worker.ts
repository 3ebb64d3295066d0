// The worker role: BullMQ workers for every job in src/jobs/registry.ts.
import type { Deps } from "../deps.js";
import { startWorkers } from "../jobs/registry.js";
import { createProvisioningPorts } from "../adapters/provisioning-ports.js";
import { runRole } from "./run-role.js";

export async function startWorker(deps: Deps): Promise<{ stop(): Promise<void> }> {
  const running = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  deps.log.info({ queues: running.workers.map((w) => w.name) }, "worker.started");
  return { stop: () => running.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) runRole("worker", startWorker);
