// The worker role: BullMQ workers for every job in src/jobs/registry.ts, the outbox relay, and a
// first reconcile at start (provisioning left without a job while no worker ran is resumed).
import type { Deps } from "../deps.js";
import { startWorkers } from "../jobs/registry.js";
import { createProvisioningPorts } from "../adapters/provisioning-ports.js";
import { runRole } from "./run-role.js";
import { reconcileAppServers } from "../jobs/reconcile-appservers.js";

export async function startWorker(deps: Deps): Promise<{ stop(): Promise<void> }> {
  const running = startWorkers(deps, { provisioning: createProvisioningPorts(deps) });
  deps.log.info({ queues: running.workers.map((w) => w.name) }, "worker.started");
  const reconciled = reconcileAppServers(deps).then(
    (outcome) => deps.log.info({ resumed: outcome.resumed, outboxSent: outcome.outboxSent }, "worker.reconciled"),
    (err) => deps.log.warn({ err }, "worker.reconcile_failed"),
  );
  // Its transaction ends before the database client closes: a disconnect in the middle of it
  // ("Unknown transaction status") left $disconnect waiting forever, and a SIGTERM'd worker running.
  return { stop: async () => void (await Promise.all([running.close(), reconciled])) };
}

if (import.meta.url === `file://${process.argv[1]}`) runRole("worker", startWorker);
