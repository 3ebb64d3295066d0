// Archives an instance from the console (the decommission panel's step; the admin form's "Archived"
// box follows the same rule). An archived instance launches nothing and leaves its balancer: its
// domains answer "no site here".
// Archiving is refused while an appserver is active, rather than deactivating it on the way: the
// page would have said "serving traffic" until the click, and an operator who archives a live site
// by mistake must not take it down silently. Taking a site down is its own confirmed step
// (maintenance, then deactivate), so by the time the operator archives, the balancer has answered
// the maintenance page and nothing is served.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError, notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { announceInstanceChange } from "../appservers/outbox.js";
import { bumpAndApply } from "../loadbalancer/bump-configuration.js";
import { lockInstanceWrites } from "./instance-integrity.js";

/** The names of the instance's active appservers, in their order. */
export async function activeAppServerNames(tx: Pick<Prisma.TransactionClient, "appServer">, instanceId: number): Promise<string[]> {
  const active = await tx.appServer.findMany({ where: { instanceId, isActive: true }, select: { name: true }, orderBy: { number: "asc" } });
  return active.map((a) => a.name);
}

/** The instance's active appservers as a message names them ("AppServer 2, AppServer 3", "them"), or null when none is. */
async function activeAppServers(tx: Pick<Prisma.TransactionClient, "appServer">, instanceId: number): Promise<{ names: string; them: string } | null> {
  const names = await activeAppServerNames(tx, instanceId);
  return names.length ? { names: names.join(", "), them: names.length === 1 ? "it" : "them" } : null;
}

/** Why this instance cannot be archived now (an appserver is active), or null. */
export async function archiveProblem(tx: Pick<Prisma.TransactionClient, "appServer">, instance: { id: number; name: string }): Promise<string | null> {
  const active = await activeAppServers(tx, instance.id);
  if (!active) return null;
  return `${instance.name} is still serving traffic through ${active.names}: archiving would hide a live site. Put it in maintenance and deactivate ${active.them} first (Decommission, on the instance's page); nothing was archived.`;
}

/**
 * Why this instance cannot leave its load balancer for none now (an appserver is active), or null:
 * its domains would answer 404 at once, as archiving would make them (the same rule).
 */
export async function unroutingProblem(tx: Pick<Prisma.TransactionClient, "appServer">, instance: { id: number; name: string }): Promise<string | null> {
  const active = await activeAppServers(tx, instance.id);
  if (!active) return null;
  return `${instance.name} is serving traffic through ${active.names} on this load balancer: without one, its domains would answer 404 at once. ` +
    `Choose another load balancer, or put it in maintenance and deactivate ${active.them} first (Decommission, on the instance's page); nothing was saved.`;
}

export async function archiveInstance(deps: Pick<Deps, "db">, input: { instanceId: number; actor: Actor }): Promise<{ name: string }> {
  return deps.db.$transaction(async (tx) => {
    await lockInstanceWrites(tx);
    await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${input.instanceId} FOR UPDATE`;
    const instance = await tx.instance.findUnique({ where: { id: input.instanceId }, select: { id: true, name: true, isArchived: true, loadBalancerId: true } });
    if (!instance) throw notFound("Instance");
    if (instance.isArchived) throw new AppError("rule", `${instance.name} is already archived; nothing changed.`);
    const problem = await archiveProblem(tx, instance);
    if (problem) throw new AppError("rule", problem);
    await tx.instance.update({ where: { id: instance.id }, data: { isArchived: true } });
    await bumpAndApply(tx, [instance.loadBalancerId]);
    await announceInstanceChange(tx, instance.id);
    await recordAuditEvent(tx, {
      actor: input.actor, action: "instance.archived", subjectType: "Instance", subjectId: instance.id,
      subjectName: instance.name, before: { isArchived: false }, after: { isArchived: true },
    });
    return { name: instance.name };
  });
}
