// The reconciler (docs/provisioning.md): makes sure no appserver stays in a provisioning status
// (new, waiting, configuring) with nothing to move it on, e.g. after PostgreSQL was down longer
// than the job's whole retry budget and even its failure handler could not write. It runs every
// minute (src/jobs/schedules.ts) and when a worker starts:
//   1. sends the outbox rows still unsent (a relay that missed them);
//   2. re-enqueues the provisioning of each such appserver whose job is missing, failed or
//      completed for RECONCILE_AFTER_SECONDS; the job resumes from the appserver's recorded step
//      (the VM found by name, the playbook re-attached at the stored byte offset);
//   3. forgets outbox rows sent more than a week ago.
// Several reconcilers at once: a transaction-level advisory lock lets one work, the others skip.
import type { Deps } from "../deps.js";
import { PROVISIONING_STATUSES } from "../domain/appservers/lifecycle.js";
import { drainOutbox, provisionJobId, provisionJobOptions } from "./relay-outbox.js";
import { JOB, QUEUE } from "./names.js";

// Any constant shared by every Ocim process of one database (pg_advisory locks are per database).
const RECONCILER_LOCK = 7_411_011;
const LIVE_STATES = new Set(["active", "waiting", "delayed", "prioritized", "waiting-children"]);
const KEEP_SENT_MS = 7 * 24 * 3600_000;

export interface ReconcileOutcome {
  outboxSent: number;
  resumed: number[];
  /** False when another reconciler held the lock. */
  ran: boolean;
}

export async function reconcileAppServers(deps: Deps): Promise<ReconcileOutcome> {
  const outboxSent = await drainOutbox(deps);
  const resumed: number[] = [];
  const ran = await deps.db.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(${RECONCILER_LOCK}) AS locked`;
    if (!lock?.locked) return false;
    const now = deps.now().getTime();
    const queue = deps.jobs.queue(QUEUE.provisioning);
    const candidates = await tx.appServer.findMany({
      where: { status: { in: [...PROVISIONING_STATUSES] } },
      select: { id: true, updatedAt: true },
      orderBy: { id: "asc" },
    });
    for (const as of candidates) {
      const job = await queue.getJob(provisionJobId(as.id));
      const state = job ? await job.getState() : "missing";
      if (LIVE_STATES.has(state)) continue;
      const goneSince = job?.finishedOn ?? as.updatedAt.getTime();
      if (now - goneSince < deps.config.RECONCILE_AFTER_SECONDS * 1000) continue;
      try {
        // The id is taken by the finished job (BullMQ ignores an add whose id exists).
        await job?.remove();
      } catch (err) {
        deps.log.info({ err, appServerId: as.id }, "reconcile.job_busy");
        continue; // a worker took it meanwhile: it is live after all
      }
      await deps.jobs.enqueue(JOB.provisionAppServer, { appServerId: as.id }, provisionJobOptions(deps.config, as.id));
      deps.log.info({ appServerId: as.id, jobState: state }, "reconcile.resumed");
      resumed.push(as.id);
    }
    await tx.outboxMessage.deleteMany({ where: { sentAt: { lt: new Date(now - KEEP_SENT_MS) } } });
    return true;
  }, { timeout: 120_000 });
  return { outboxSent, resumed, ran };
}
