// The cleanup plan as the page shows it and the job carries it out: every live appserver, its
// fate and the reason (DESIGN §10), from the same pure planCleanup().
import type { Deps } from "../../deps.js";
import { planCleanup, type Fate } from "./plan-cleanup.js";
import { SANDBOX_CLOSURE_SELECT, sandboxRemoveOn } from "../sandboxes/sandbox-expiry.js";

export interface PlannedAppServer {
  id: number;
  number: number;
  name: string;
  instanceId: number;
  instanceName: string;
  status: string;
  isActive: boolean;
  isPinned: boolean;
  createdAt: Date;
  fate: Fate;
}

export async function getCleanupPlan(deps: Pick<Deps, "db" | "config" | "now">): Promise<PlannedAppServer[]> {
  // Terminated rows count too: their activations say when the instance last switched.
  const found = await deps.db.appServer.findMany({
    where: { instance: { appServers: { some: { status: { not: "terminated" } } } } },
    select: {
      id: true, number: true, name: true, instanceId: true, status: true, isActive: true, isPinned: true, createdAt: true, lastActivatedAt: true,
      instance: { select: { name: true, ...SANDBOX_CLOSURE_SELECT } },
    },
    orderBy: [{ instanceId: "asc" }, { createdAt: "desc" }],
  });
  const rows = found.map((r) => ({ ...r, sandboxRemoveOn: sandboxRemoveOn(r.instance) }));
  const fates = planCleanup(rows, { failedDays: deps.config.CLEANUP_FAILED_DAYS, inactiveDays: deps.config.CLEANUP_INACTIVE_DAYS }, deps.now());
  return rows
    .filter((r) => fates.has(r.id))
    .map((r) => ({
      id: r.id, number: r.number, name: r.name, instanceId: r.instanceId, instanceName: r.instance.name, status: r.status,
      isActive: r.isActive, isPinned: r.isPinned, createdAt: r.createdAt, fate: fates.get(r.id)!,
    }));
}
