// Every job handler is registered here (one place to see what the worker does).
import { DelayedError, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Deps } from "../deps.js";
import { retryable, retryDelayMs } from "./retry.js";
import { JOB, QUEUE, type QueueName } from "./names.js";
import { PAYLOADS } from "./payloads.js";
import { handleProvisioningFailure, noteProvisioningRetry, runProvisioning } from "./provisioning.js";
import { runActivate, runAdvanceRollout, runAdvanceRollouts, runApplyLoadBalancer, runDeactivate, runReconcileLoadBalancers, runTerminate } from "./actions.js";
import { runCleanup } from "../domain/cleanup/run-cleanup.js";
import { deleteAppServerVm } from "../domain/appservers/delete-appserver-vm.js";
import { stopPlaybook } from "../domain/provisioning/stop-playbook.js";
import { reconcileAppServers } from "./reconcile-appservers.js";
import { startOutboxRelay } from "./relay-outbox.js";
import { purgeLogs } from "../domain/logs/purge-logs.js";
import { renewCertificates } from "../domain/certificates/renew-certificates.js";
import { deliverNotification } from "../domain/notifications/deliver-notification.js";
import { notifyDaily } from "../domain/notifications/notify-daily.js";
import { fetchGithubKeys } from "../domain/sshkeys/fetch-github-keys.js";
import { syncSshAccess } from "../domain/sshkeys/sync-ssh-access.js";
import { findOrphans } from "../domain/orphans/find-orphans.js";
import { syncPullRequest } from "../domain/sandboxes/sync-pull-request.js";
import { pollPullRequests } from "../domain/sandboxes/poll-pull-requests.js";
import { isRedisConnectionError, redisAway } from "../redis.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";

export interface WorkerPorts {
  provisioning: ProvisioningPorts;
}

type Handler = (deps: Deps, job: Job, signal: AbortSignal) => Promise<unknown>;

export interface RunningWorkers {
  workers: Worker[];
  close(): Promise<void>;
}

const SHUTDOWN = "worker-shutdown";

export function startWorkers(deps: Deps, ports: WorkerPorts): RunningWorkers {
  const handlers: Record<QueueName, Record<string, Handler>> = {
    [QUEUE.provisioning]: {
      [JOB.provisionAppServer]: (d, job, signal) =>
        runProvisioning(d, PAYLOADS[JOB.provisionAppServer].parse(job.data), ports.provisioning, signal),
    },
    [QUEUE.actions]: {
      [JOB.activateAppServer]: (d, job) => runActivate(d, PAYLOADS[JOB.activateAppServer].parse(job.data)),
      [JOB.deactivateAppServer]: (d, job) => runDeactivate(d, PAYLOADS[JOB.deactivateAppServer].parse(job.data)),
      [JOB.terminateAppServer]: (d, job) => runTerminate(d, PAYLOADS[JOB.terminateAppServer].parse(job.data)),
      [JOB.deleteAppServerVm]: (d, job) => deleteAppServerVm(d, { ...PAYLOADS[JOB.deleteAppServerVm].parse(job.data), provider: (kind) => ports.provisioning.provider(kind) }),
      [JOB.stopPlaybook]: (d, job) => stopPlaybook(d, PAYLOADS[JOB.stopPlaybook].parse(job.data), ports.provisioning),
      [JOB.syncPullRequest]: (d, job) => syncPullRequest(d, PAYLOADS[JOB.syncPullRequest].parse(job.data)),
      [JOB.advanceRollout]: (d, job) => runAdvanceRollout(d, PAYLOADS[JOB.advanceRollout].parse(job.data)),
    },
    [QUEUE.loadBalancer]: {
      [JOB.applyLoadBalancer]: (d, job) => runApplyLoadBalancer(d, PAYLOADS[JOB.applyLoadBalancer].parse(job.data)),
    },
    [QUEUE.notifications]: {
      // Whether this is the last try decides how a failure is recorded: "failed", or still "pending".
      [JOB.sendNotification]: (d, job) =>
        deliverNotification(d, { ...PAYLOADS[JOB.sendNotification].parse(job.data), lastAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1) }),
    },
    [QUEUE.periodic]: {
      [JOB.cleanup]: (d) => runCleanup(d),
      [JOB.reconcile]: (d) => reconcileAppServers(d),
      [JOB.lbSync]: (d) => runReconcileLoadBalancers(d),
      [JOB.logPurge]: (d) => purgeLogs(d),
      [JOB.certificateRenewal]: (d) => renewCertificates(d),
      [JOB.dailyNotifications]: (d) => notifyDaily(d),
      [JOB.advanceRollouts]: (d) => runAdvanceRollouts(d),
      [JOB.orphans]: (d) => findOrphans(d, ports.provisioning, { remove: true }),
      [JOB.pollPullRequests]: (d) => pollPullRequests(d),
      [JOB.sshKeysSync]: async (d) => {
        // Without an organization and a token there is nobody to give access to (a local try-out).
        // "skipped: <why>" is what Admin › Scheduled jobs shows as the run's outcome (admin-jobs.ts).
        const missing = (["GITHUB_ORG", "GITHUB_TOKEN"] as const).filter((name) => !d.config[name]);
        if (missing.length) return `skipped: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set, so no GitHub member's keys were fetched or synced`;
        await fetchGithubKeys(d);
        return syncSshAccess(d, ports.provisioning);
      },
    },
  };
  const concurrency: Record<QueueName, number> = {
    [QUEUE.provisioning]: deps.config.PROVISIONING_CONCURRENCY,
    [QUEUE.actions]: 5,
    [QUEUE.loadBalancer]: 2,
    [QUEUE.periodic]: 1,
    [QUEUE.notifications]: 5,
  };
  const workers = (Object.keys(handlers) as QueueName[])
    .filter((queue) => Object.keys(handlers[queue]).length > 0)
    .map((queue) => {
      const worker = new Worker(
        queue,
        async (job, token, signal) => {
          const handler = handlers[queue][job.name];
          if (!handler) throw new UnrecoverableError(`No handler for job "${job.name}" on queue "${queue}".`);
          const log = deps.log.child({ queue, job: job.name, jobId: job.id });
          try {
            return await handler(deps, job, signal ?? new AbortController().signal);
          } catch (err) {
            if (signal?.aborted && signal.reason === SHUTDOWN) {
              // The worker is stopping: put the job back without using up an attempt; the next
              // worker resumes it from its recorded step.
              await job.moveToDelayed(Date.now() + 1000, token);
              log.info("job.requeued_on_shutdown");
              throw new DelayedError();
            }
            // A refusal will be the same on every attempt: fail now, with its message on the appserver.
            const again = retryable(err);
            const final = !again || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
            log.warn({ err, final }, "job.failed");
            deps.metrics.jobFailures.inc({ queue, job: job.name, final: String(final) });
            if (final && job.name === JOB.provisionAppServer) await handleProvisioningFailure(deps, job.data, err);
            if (!final && again && job.name === JOB.provisionAppServer) {
              await noteProvisioningRetry(deps, job.data, err, { next: job.attemptsMade + 2, of: job.opts.attempts ?? 1, inMs: retryDelayMs(job) });
            }
            if (!again && !(err instanceof UnrecoverableError)) throw new UnrecoverableError((err as Error).message);
            throw err;
          }
        },
        {
          connection: deps.redis,
          prefix: deps.jobs.prefix,
          concurrency: concurrency[queue],
          lockDuration: deps.config.JOB_LOCK_SECONDS * 1000,
          stalledInterval: Math.max(1000, (deps.config.JOB_LOCK_SECONDS * 1000) / 2),
          // A worker that dies leaves its jobs stalled; another resumes them (resumable steps).
          maxStalledCount: 10,
        },
      );
      // Its connection's errors arrive once per reconnect attempt; the outage is logged once (src/redis.ts).
      worker.on("error", (err) => isRedisConnectionError(err) || deps.log.error({ err, queue }, "worker.error"));
      return worker;
    });
  // Each worker process also feeds the queues from the outbox (src/jobs/relay-outbox.ts).
  const relay = startOutboxRelay(deps);
  return {
    workers,
    async close() {
      for (const w of workers) w.cancelAllJobs(SHUTDOWN);
      await relay.close();
      // With Redis away, BullMQ's close would wait for it forever (for the job fetch in flight):
      // forced, it stops now; a job it held is taken up by a worker again once its lock expires.
      const force = redisAway(deps.redis);
      await Promise.all(workers.map((w) => w.close(force)));
    },
  };
}
