// Where an instance stands on the way down (docs/admin.md, "Decommissioning"), for the console's
// Decommission panel: the steps in their order, which are done, and the next one. The commands
// (set-maintenance, deactivateInstanceAppServers, terminateInstanceAppServers, archive-instance,
// delete-instance) enforce every rule again; this only says what the page offers.
import type { AppServerStatus } from "../../generated/prisma/client.ts";
import { PROVISIONING_STATUSES } from "../appservers/lifecycle.js";

export type DecommissionStep = "maintenance" | "deactivate" | "terminate" | "archive" | "delete";

export interface Decommission {
  maintenance: { since: Date; by: string } | null;
  isArchived: boolean;
  /** Names of the active appservers (serving traffic unless the instance is in maintenance). */
  active: string[];
  /** Appservers not terminated yet, and those of them still provisioning (to cancel first). */
  live: number;
  provisioning: string[];
  /** The first step not done yet; "delete" once everything before it is. */
  next: DecommissionStep;
}

/**
 * `instance`: its state as the page read it (getInstance); `live`: its appservers not terminated
 * (read with the page's other panels in get-instance-panels.ts).
 */
export function decommissionOf(
  instance: { isArchived: boolean; maintenanceSince: Date | null; maintenanceBy: string | null },
  live: { name: string; status: AppServerStatus; isActive: boolean }[],
): Decommission {
  const maintenance = instance.maintenanceSince ? { since: instance.maintenanceSince, by: instance.maintenanceBy ?? "unknown" } : null;
  const active = live.filter((a) => a.isActive).map((a) => a.name);
  const provisioning = live.filter((a) => PROVISIONING_STATUSES.includes(a.status)).map((a) => a.name);
  // Maintenance comes first only while something is served: a site with nothing active needs none to go down.
  const next: DecommissionStep = active.length && !maintenance ? "maintenance"
    : active.length ? "deactivate"
    : live.length ? "terminate"
    : instance.isArchived ? "delete" : "archive";
  return { maintenance, isArchived: instance.isArchived, active, live: live.length, provisioning, next };
}
