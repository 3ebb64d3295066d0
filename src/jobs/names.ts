// Job and queue names are a public contract: queued jobs outlive deploys, so never rename one.
// Payloads carry ids only (STYLE 5); each has a schema in payloads.ts.
export const QUEUE = {
  provisioning: "provisioning",
  actions: "actions",
  loadBalancer: "load-balancer",
  periodic: "periodic",
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
  [JOB.advanceRollout]: QUEUE.actions,
  [JOB.cleanup]: QUEUE.periodic,
  [JOB.lbSync]: QUEUE.periodic,
  [JOB.logPurge]: QUEUE.periodic,
  [JOB.sshKeysSync]: QUEUE.periodic,
  [JOB.orphans]: QUEUE.periodic,
  [JOB.reconcile]: QUEUE.periodic,
  [JOB.certificateRenewal]: QUEUE.periodic,
  [JOB.advanceRollouts]: QUEUE.periodic,
};

export const PERIODIC_JOBS = [JOB.cleanup, JOB.lbSync, JOB.logPurge, JOB.sshKeysSync, JOB.orphans, JOB.reconcile, JOB.certificateRenewal, JOB.advanceRollouts] as const;
export type PeriodicJob = (typeof PERIODIC_JOBS)[number];
