// The transactional outbox: follow-up work written in the same transaction as the change that
// calls for it, and sent by the worker's relay (src/jobs/relay-outbox.ts) after the commit.
// Kinds are job names (the same strings as src/jobs/names.ts, a public contract, checked by the
// relay's type) or "status-event" / "instance-event" (live pages); payloads carry ids only (STYLE 5).
import type { Prisma } from "../../db.js";

export const OUTBOX = {
  provisionAppServer: "provision-appserver",
  applyLoadBalancer: "apply-load-balancer",
  deleteAppServerVm: "delete-appserver-vm",
  stopPlaybook: "stop-playbook",
  statusEvent: "status-event",
  sendNotification: "send-notification",
  /** A roll-out has something to do: an instance's launch ended, or it started or resumed. */
  advanceRollout: "advance-rollout",
  /** A pull-request sandbox's new appserver runs: it takes the sandbox's traffic. */
  activateAppServer: "activate-appserver",
  /** An instance itself changed (maintenance, archive, settings): its open pages render again. */
  instanceEvent: "instance-event",
} as const;

export type OutboxKind = (typeof OUTBOX)[keyof typeof OUTBOX];

export type OutboxRow =
  | { kind: typeof OUTBOX.provisionAppServer | typeof OUTBOX.deleteAppServerVm | typeof OUTBOX.stopPlaybook | typeof OUTBOX.statusEvent; payload: { appServerId: number } }
  | { kind: typeof OUTBOX.applyLoadBalancer; payload: { loadBalancerId: number } }
  | { kind: typeof OUTBOX.instanceEvent; payload: { instanceId: number } }
  | { kind: typeof OUTBOX.sendNotification; payload: { deliveryId: number } }
  | { kind: typeof OUTBOX.advanceRollout; payload: { rolloutId: number } }
  | { kind: typeof OUTBOX.activateAppServer; payload: { appServerId: number; actorId: null; deactivateOthers: true } };

/** The channel the relay LISTENs on; NOTIFY is delivered only when the transaction commits. */
export const OUTBOX_CHANNEL = "ocim_outbox";

export async function writeOutbox(tx: Pick<Prisma.TransactionClient, "outboxMessage" | "$executeRaw">, rows: OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.outboxMessage.createMany({ data: rows.map((r) => ({ kind: r.kind, payload: r.payload })) });
  // Wakes the relay at commit (PostgreSQL folds identical notifications of one transaction into one).
  await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
}

/** Tells the instance's open pages, once the caller's transaction commits, that the instance changed. */
export function announceInstanceChange(tx: Pick<Prisma.TransactionClient, "outboxMessage" | "$executeRaw">, instanceId: number): Promise<void> {
  return writeOutbox(tx, [{ kind: OUTBOX.instanceEvent, payload: { instanceId } }]);
}
