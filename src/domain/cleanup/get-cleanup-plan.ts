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
  // Terminated rows count only for their activations, which say when the instance last switched
  // (planCleanup): one never activated is left out. On the bench fleet (100,000 appservers, 80,000
  // of them terminated) reading them all, each with its instance, took 1.2–1.8 s of CPU per plan.
  const found = await deps.db.appServer.findMany({
    where: {
      instance: { appServers: { some: { status: { not: "terminated" } } } },
      OR: [{ status: { not: "terminated" } }, { lastActivatedAt: { not: null } }],
    },
    select: { id: true, number: true, name: true, instanceId: true, status: true, isActive: true, isPinned: true, createdAt: true, lastActivatedAt: true },
    orderBy: [{ instanceId: "asc" }, { createdAt: "desc" }],
  });
  // Each instance once, not with each of its appservers.
  const instances = new Map((await deps.db.instance.findMany({
    where: { id: { in: [...new Set(found.map((r) => r.instanceId))] } },
    select: { id: true, name: true, ...SANDBOX_CLOSURE_SELECT },
  })).map((i) => [i.id, { name: i.name, sandboxRemoveOn: sandboxRemoveOn(i) }]));
  const instanceOf = (r: { instanceId: number }) => instances.get(r.instanceId)!;
  const rows = found.map((r) => ({ ...r, sandboxRemoveOn: instanceOf(r).sandboxRemoveOn }));
  const fates = planCleanup(rows, { failedDays: deps.config.CLEANUP_FAILED_DAYS, inactiveDays: deps.config.CLEANUP_INACTIVE_DAYS }, deps.now());
  return rows
    .filter((r) => fates.has(r.id))
    .map((r) => ({
      id: r.id, number: r.number, name: r.name, instanceId: r.instanceId, instanceName: instanceOf(r).name, status: r.status,
      isActive: r.isActive, isPinned: r.isPinned, createdAt: r.createdAt, fate: fates.get(r.id)!,
    }));
}
