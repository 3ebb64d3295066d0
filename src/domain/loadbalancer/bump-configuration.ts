// Every change that alters what a balancer routes (activation, domains, moving an instance, archiving)
// bumps its configurationVersion in the same transaction; the balancer is dirty until an apply
// deploys that version (DESIGN §8). A change of instances asks for the apply in the same
// transaction (bumpAndApply: an outbox row the worker's relay sends once it commits), whoever made
// it (the admin, `ocim demo`, `ocim import`, a pull-request sandbox); an appserver's activation asks
// through its lifecycle's follow-ups, a certificate applies at once.
import type { Prisma } from "../../db.js";
import { OUTBOX, writeOutbox } from "../appservers/outbox.js";

type Tx = Pick<Prisma.TransactionClient, "instance" | "loadBalancer">;

/**
 * Bumps the balancer of the instance and, when the instance just moved, the one it left.
 * Returns the ids of the balancers bumped, for the caller to apply after commit.
 */
export async function bumpConfiguration(tx: Tx, input: { instanceId: number; formerLoadBalancerId?: number | null }): Promise<number[]> {
  const instance = await tx.instance.findUnique({ where: { id: input.instanceId }, select: { loadBalancerId: true } });
  return bumpLoadBalancers(tx, [instance?.loadBalancerId, input.formerLoadBalancerId]);
}

/** Bumps each of these balancers once (nulls and repeats ignored); returns the ids bumped. */
export async function bumpLoadBalancers(tx: Pick<Prisma.TransactionClient, "loadBalancer">, ids: (number | null | undefined)[]): Promise<number[]> {
  const wanted = [...new Set(ids.filter((id): id is number => typeof id === "number"))];
  if (wanted.length === 0) return [];
  await tx.loadBalancer.updateMany({ where: { id: { in: wanted } }, data: { configurationVersion: { increment: 1 } } });
  return wanted;
}

/** bumpLoadBalancers, and the apply of each balancer bumped, sent after the commit (the outbox). */
export async function bumpAndApply(tx: Pick<Prisma.TransactionClient, "loadBalancer" | "outboxMessage" | "$executeRaw">, ids: (number | null | undefined)[]): Promise<number[]> {
  const bumped = await bumpLoadBalancers(tx, ids);
  await writeOutbox(tx, bumped.map((loadBalancerId) => ({ kind: OUTBOX.applyLoadBalancer, payload: { loadBalancerId } })));
  return bumped;
}
