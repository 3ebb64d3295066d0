// Job and queue names are a public contract: queued jobs outlive deploys, so never rename one.
// Payloads carry ids only (STYLE 5); each has a schema in payloads.ts.
export const QUEUE = {
  provisioning: "provisioning",
  actions: "actions",
  loadBalancer: "load-balancer",
  periodic: "periodic",
  notifications: "notifications",
} as const;

export const JOB = {
  provisionAppServer: "provision-appserver",
  activateAppServer: "activate-appserver",
  deactivateAppServer: "deactivate-appserver",
  terminateAppServer: "terminate-appserver",
  // After the terminated transition (from the outbox): the provider deletes the VM.
  deleteAppServerVm: "delete-appserver-vm",
  // After a cancel (from the outbox): the playbook is stopped on the VM, even when no worker was
  // tailing it at the time.
  stopPlaybook: "stop-playbook",
  applyLoadBalancer: "apply-load-balancer",
  // One notification delivery (from the outbox), retried with backoff (docs/notifications.md).
  sendNotification: "send-notification",
  // A roll-out's next step (src/domain/rollouts/advance-rollout.ts), from the outbox: when it starts
  // or resumes, and when a launch of one of its instances ends.
  advanceRollout: "advance-rollout",
  // Periodic (src/jobs/schedules.ts); also `ocim run <name>`.
  cleanup: "cleanup",
  lbSync: "lb-sync",
  logPurge: "log-purge",
  sshKeysSync: "ssh-keys-sync",
  orphans: "orphans",
  reconcile: "reconcile",
  // Orders missing certificates and renews those 30 days from expiry (docs/load-balancer.md).
  certificateRenewal: "certificate-renewal",
  // Daily: notifies of certificates about to expire and of tomorrow's cleanup.
  dailyNotifications: "daily-notifications",
  // Pull-request sandboxes (docs/pr-sandboxes.md): one pull request brought in line with GitHub
  // (from a webhook), and every watched repository's open pull requests (periodic, the fallback).
  syncPullRequest: "sync-pull-request",
  pollPullRequests: "poll-pull-requests",
  // Moves every unfinished roll-out on, in case an advance-rollout was missed (a crash).
  advanceRollouts: "advance-rollouts",
} as const;

export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];
export type JobName = (typeof JOB)[keyof typeof JOB];

/** Which queue each job goes to. */
export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JOB.provisionAppServer]: QUEUE.provisioning,
  [JOB.activateAppServer]: QUEUE.actions,
  [JOB.deactivateAppServer]: QUEUE.actions,
  [JOB.terminateAppServer]: QUEUE.actions,
  [JOB.deleteAppServerVm]: QUEUE.actions,
  [JOB.stopPlaybook]: QUEUE.actions,
  [JOB.applyLoadBalancer]: QUEUE.loadBalancer,
  [JOB.sendNotification]: QUEUE.notifications,
  [JOB.advanceRollout]: QUEUE.actions,
  [JOB.cleanup]: QUEUE.periodic,
  [JOB.lbSync]: QUEUE.periodic,
  [JOB.logPurge]: QUEUE.periodic,
  [JOB.sshKeysSync]: QUEUE.periodic,
  [JOB.orphans]: QUEUE.periodic,
  [JOB.reconcile]: QUEUE.periodic,
  [JOB.certificateRenewal]: QUEUE.periodic,
  [JOB.dailyNotifications]: QUEUE.periodic,
  [JOB.syncPullRequest]: QUEUE.actions,
  [JOB.pollPullRequests]: QUEUE.periodic,
  [JOB.advanceRollouts]: QUEUE.periodic,
};

export const PERIODIC_JOBS = [JOB.cleanup, JOB.lbSync, JOB.logPurge, JOB.sshKeysSync, JOB.orphans, JOB.reconcile, JOB.certificateRenewal, JOB.dailyNotifications, JOB.pollPullRequests, JOB.advanceRollouts] as const;
export type PeriodicJob = (typeof PERIODIC_JOBS)[number];
