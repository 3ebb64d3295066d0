// Puts an instance in maintenance, or takes it out (docs/admin.md, "Decommissioning"). In
// maintenance the balancer answers every domain of the instance with a 503 page naming the site,
// whatever appservers are active, and the instance may be left with no active appserver: the first
// step of taking a site down, and a window for work the visitors must not see.
// The change, its audit row, the balancer's bump and its apply (an outbox row the worker's relay
// sends after the commit) are one transaction, so the page never says "in maintenance" while the
// balancer was never told, and the CLI works the same way as the console.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { formatMinute } from "../../format-minute.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { bumpAndApply } from "../loadbalancer/bump-configuration.js";
import { announceInstanceChange } from "../appservers/outbox.js";
import { findInstance } from "./find-instance.js";

export interface SetMaintenanceInput {
  /** Its id, or (from the CLI) its slug. */
  instance: number | string;
  actor: Actor;
  /** true: enter maintenance; false: leave it. */
  on: boolean;
}

export interface SetMaintenanceResult {
  id: number;
  name: string;
  /** Active appservers when it left maintenance: 0 only for an instance linked to a pull request. */
  active: number;
}

export async function setMaintenance(deps: Pick<Deps, "db" | "now">, input: SetMaintenanceInput): Promise<SetMaintenanceResult> {
  return deps.db.$transaction(async (tx) => {
    const { id } = await findInstance(tx, input.instance);
    // Locked like an activation locks it, so a deactivation cannot slip between the check and the change.
    await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${id} FOR UPDATE`;
    const instance = await tx.instance.findUniqueOrThrow({
      where: { id },
      select: { id: true, name: true, loadBalancerId: true, maintenanceSince: true, maintenanceBy: true, pullRequestUrl: true },
    });
    const inMaintenance = instance.maintenanceSince !== null;
    if (input.on === inMaintenance) {
      throw new AppError("rule", inMaintenance
        ? `${instance.name} is already in maintenance (since ${formatMinute(instance.maintenanceSince!)}, by ${instance.maintenanceBy ?? "unknown"}); nothing changed.`
        : `${instance.name} is not in maintenance; nothing changed.`);
    }
    const active = await tx.appServer.count({ where: { instanceId: instance.id, isActive: true } });
    // Out of maintenance, a site without an active appserver would answer nothing of its own: only
    // an instance linked to a pull request may be left that way (DESIGN §9), as when it was deactivated.
    if (!input.on && active === 0 && !instance.pullRequestUrl) {
      throw new AppError("rule", `${instance.name} has no active appserver, so out of maintenance the site would have nothing to serve. Activate an appserver first (it may be activated during maintenance); the instance stays in maintenance.`);
    }
    const now = deps.now();
    await tx.instance.update({
      where: { id: instance.id },
      data: input.on ? { maintenanceSince: now, maintenanceBy: input.actor.login } : { maintenanceSince: null, maintenanceBy: null },
    });
    await bumpAndApply(tx, [instance.loadBalancerId]);
    await announceInstanceChange(tx, instance.id);
    await recordAuditEvent(tx, {
      actor: input.actor, action: input.on ? "instance.maintenance_entered" : "instance.maintenance_left",
      subjectType: "Instance", subjectId: instance.id, subjectName: instance.name,
      before: { maintenanceSince: instance.maintenanceSince, maintenanceBy: instance.maintenanceBy },
      after: input.on ? { maintenanceSince: now, maintenanceBy: input.actor.login } : { maintenanceSince: null, maintenanceBy: null },
    });
    return { id: instance.id, name: instance.name, active };
  });
}
