// Activate / deactivate (DESIGN §9), enforced here, not only in the page:
// - activate: only a running appserver whose /heartbeat answers (health gate); several may be active;
// - deactivate: unless it leaves an instance without a pull request with no active appserver —
//   except an instance in maintenance, whose balancer answers the maintenance page anyway: that is
//   how a site is taken down (docs/admin.md, "Decommissioning").
// Refusals: "wrong_state" when the appserver's own status or active flag does not allow the action
// (what the lifecycle's transitions say when they lose a race), "rule" for the rules beyond it (the
// last active appserver, the health gate).
// Both run in the request. Each change bumps the balancer's configurationVersion and goes through
// the lifecycle's activated / deactivated transitions in the same transaction, which queue the
// balancer's apply and the live status events through the outbox.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import { bumpLoadBalancers } from "../loadbalancer/bump-configuration.js";
import type { Actor } from "../audit/record-audit-event.js";
import { moveAppServer } from "./lifecycle.js";
import { basicAuthFor } from "../instances/secret.js";
import { checkHeartbeat, httpPortOf } from "./health-gate.js";
import { readSnapshot } from "./config-snapshot.js";

export interface ActivationResult {
  instanceId: number;
  loadBalancerId: number | null;
  activated: number[];
  deactivated: number[];
  /** Their names, in the same order: what the flash names. */
  deactivatedNames: string[];
}

type Tx = Prisma.TransactionClient;

/** Locks the instance row so concurrent activations of one instance are serialized. */
async function lockInstance(tx: Tx, instanceId: number) {
  await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${instanceId} FOR UPDATE`;
  return tx.instance.findUniqueOrThrow({ where: { id: instanceId } });
}

async function loadAppServer(deps: Pick<Deps, "db">, id: number) {
  const as = await deps.db.appServer.findUnique({ where: { id }, include: { instance: true } });
  if (!as) throw new AppError("not_found", "AppServer not found.");
  return as;
}

export async function activateAppServer(
  deps: Pick<Deps, "db" | "secrets" | "now">,
  input: { appServerId: number; actor: Actor; deactivateOthers?: boolean },
): Promise<ActivationResult> {
  const as = await loadAppServer(deps, input.appServerId);
  if (as.status !== "running") throw new AppError("wrong_state", `Only a running appserver can be activated; ${as.name} is ${as.status}.`);
  if (as.isActive && !input.deactivateOthers) throw new AppError("wrong_state", `${as.name} is already active.`);
  await checkHeartbeat(as.publicIp, httpPortOf(readSnapshot(as.configSnapshot, as.name)), basicAuthFor(deps.secrets, as.instance), as.instance.internalLmsDomain.toLowerCase());
  return deps.db.$transaction(async (tx) => {
    const instance = await lockInstance(tx, as.instanceId);
    const now = deps.now();
    await bumpLoadBalancers(tx, [instance.loadBalancerId]);
    let others: { id: number; name: string }[] = [];
    if (input.deactivateOthers) {
      others = await tx.appServer.findMany({ where: { instanceId: as.instanceId, isActive: true, NOT: { id: as.id } }, select: { id: true, name: true }, orderBy: { number: "asc" } });
      for (const { id } of others) {
        await moveAppServer(tx, deps, "deactivated", {
          appServerId: id, actor: input.actor, set: { isActive: false }, where: { isActive: true },
          audit: { before: { isActive: true }, after: { isActive: false, because: `${as.name} was activated exclusively` } },
        });
      }
    }
    const deactivated = others.map((o) => o.id);
    await moveAppServer(tx, deps, "activated", {
      appServerId: as.id, actor: input.actor, set: { isActive: true, ...(as.isActive ? {} : { lastActivatedAt: now }) },
      audit: {
        action: input.deactivateOthers ? "appserver.activated_exclusively" : "appserver.activated",
        before: { isActive: as.isActive }, after: { isActive: true, deactivatedOthers: deactivated },
      },
    });
    return { instanceId: instance.id, loadBalancerId: instance.loadBalancerId, activated: [as.id], deactivated, deactivatedNames: others.map((o) => o.name) };
  });
}

/** Whether an instance may be left with no active appserver: linked to a pull request, or in maintenance. */
export function mayHaveNoneActive(instance: { pullRequestUrl: string | null; maintenanceSince: Date | null }): boolean {
  return Boolean(instance.pullRequestUrl) || instance.maintenanceSince !== null;
}

function lastActiveRefusal(what: string, instanceName: string): AppError {
  return new AppError("rule", `${what} the last active appserver of ${instanceName}; deactivating it would take the site down. Activate another appserver first, or put the instance in maintenance to take it down (only instances linked to a pull request or in maintenance may have none active).`);
}

async function deactivateIn(tx: Tx, deps: Pick<Deps, "now">, appServerId: number, actor: Actor) {
  await moveAppServer(tx, deps, "deactivated", {
    appServerId, actor, set: { isActive: false }, where: { isActive: true },
    audit: { before: { isActive: true }, after: { isActive: false } },
  });
}

export async function deactivateAppServer(deps: Pick<Deps, "db" | "now">, input: { appServerId: number; actor: Actor }): Promise<ActivationResult> {
  const as = await loadAppServer(deps, input.appServerId);
  return deps.db.$transaction(async (tx) => {
    const instance = await lockInstance(tx, as.instanceId);
    const current = await tx.appServer.findUniqueOrThrow({ where: { id: as.id }, select: { isActive: true } });
    if (!current.isActive) throw new AppError("wrong_state", `${as.name} is not active.`);
    const othersActive = await tx.appServer.count({ where: { instanceId: instance.id, isActive: true, NOT: { id: as.id } } });
    if (othersActive === 0 && !mayHaveNoneActive(instance)) throw lastActiveRefusal(`${as.name} is`, instance.name);
    await bumpLoadBalancers(tx, [instance.loadBalancerId]);
    await deactivateIn(tx, deps, as.id, input.actor);
    return { instanceId: instance.id, loadBalancerId: instance.loadBalancerId, activated: [], deactivated: [as.id], deactivatedNames: [as.name] };
  });
}

/**
 * Deactivates every active appserver of an instance, all or none (the decommission panel's step):
 * only when the instance may be left with none active, so in practice once it is in maintenance.
 */
export async function deactivateInstanceAppServers(deps: Pick<Deps, "db" | "now">, input: { instanceId: number; actor: Actor }): Promise<ActivationResult> {
  return deps.db.$transaction(async (tx) => {
    const found = await tx.instance.findUnique({ where: { id: input.instanceId }, select: { id: true } });
    if (!found) throw new AppError("not_found", "Instance not found.");
    const instance = await lockInstance(tx, found.id);
    const active = await tx.appServer.findMany({ where: { instanceId: instance.id, isActive: true }, select: { id: true, name: true }, orderBy: { id: "asc" } });
    if (!active.length) throw new AppError("rule", `${instance.name} has no active appserver; nothing was deactivated.`);
    if (!mayHaveNoneActive(instance)) throw lastActiveRefusal(active.length === 1 ? "This is" : "These include", instance.name);
    await bumpLoadBalancers(tx, [instance.loadBalancerId]);
    for (const { id } of active) await deactivateIn(tx, deps, id, input.actor);
    return { instanceId: instance.id, loadBalancerId: instance.loadBalancerId, activated: [], deactivated: active.map((a) => a.id), deactivatedNames: active.map((a) => a.name) };
  });
}
