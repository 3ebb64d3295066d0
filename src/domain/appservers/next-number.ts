import type { Prisma } from "../../db.js";

/**
 * The number of the instance's next appserver: one past its highest. Appservers are deleted only
 * with their instance, so a number is never given twice; a launch reads it under the instance's row
 * lock, so two launches never read the same one (migration 20261203180000 says why it is not a
 * counter on the instance row).
 */
export async function nextAppServerNumber(tx: Prisma.TransactionClient, instanceId: number): Promise<number> {
  const { _max } = await tx.appServer.aggregate({ where: { instanceId }, _max: { number: true } });
  return (_max.number ?? 0) + 1;
}
