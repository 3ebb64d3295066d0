// Every change that alters what a balancer routes (activation, domains, moving an instance, archiving)
// bumps its configurationVersion in the same transaction; the balancer is dirty until an apply
// deploys that version (DESIGN §8). The caller enqueues the apply after its transaction commits.
import type { Prisma } from "../../db.js";

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
