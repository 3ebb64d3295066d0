// Activate / deactivate (DESIGN §9), enforced here, not only in the page:
// - activate: only a running appserver whose /heartbeat answers (health gate); several may be active;
// - deactivate: unless it leaves an instance without a pull request with no active appserver.
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
  if (as.status !== "running") throw new AppError("rule", `Only a running appserver can be activated; ${as.name} is ${as.status}.`);
  if (as.isActive && !input.deactivateOthers) throw new AppError("rule", `${as.name} is already active.`);
  await checkHeartbeat(as.publicIp, httpPortOf(readSnapshot(as.configSnapshot, as.name)), basicAuthFor(deps.secrets, as.instance), as.instance.internalLmsDomain.toLowerCase());
  return deps.db.$transaction(async (tx) => {
    const instance = await lockInstance(tx, as.instanceId);
    const now = deps.now();
    await bumpLoadBalancers(tx, [instance.loadBalancerId]);
    let deactivated: number[] = [];
    if (input.deactivateOthers) {
      const others = await tx.appServer.findMany({ where: { instanceId: as.instanceId, isActive: true, NOT: { id: as.id } }, select: { id: true } });
      deactivated = others.map((o) => o.id);
      for (const id of deactivated) {
        await moveAppServer(tx, deps, "deactivated", {
          appServerId: id, actor: input.actor, set: { isActive: false }, where: { isActive: true },
          audit: { before: { isActive: true }, after: { isActive: false, because: `${as.name} was activated exclusively` } },
        });
      }
    }
    await moveAppServer(tx, deps, "activated", {
      appServerId: as.id, actor: input.actor, set: { isActive: true, ...(as.isActive ? {} : { lastActivatedAt: now }) },
      audit: {
        action: input.deactivateOthers ? "appserver.activated_exclusively" : "appserver.activated",
        before: { isActive: as.isActive }, after: { isActive: true, deactivatedOthers: deactivated },
      },
    });
    return { instanceId: instance.id, loadBalancerId: instance.loadBalancerId, activated: [as.id], deactivated };
  });
}

export async function deactivateAppServer(deps: Pick<Deps, "db" | "now">, input: { appServerId: number; actor: Actor }): Promise<ActivationResult> {
  const as = await loadAppServer(deps, input.appServerId);
  return deps.db.$transaction(async (tx) => {
    const instance = await lockInstance(tx, as.instanceId);
    const current = await tx.appServer.findUniqueOrThrow({ where: { id: as.id }, select: { isActive: true } });
    if (!current.isActive) throw new AppError("rule", `${as.name} is not active.`);
    const othersActive = await tx.appServer.count({ where: { instanceId: instance.id, isActive: true, NOT: { id: as.id } } });
    if (othersActive === 0 && !instance.pullRequestUrl) {
      throw new AppError("rule", `${as.name} is the last active appserver of ${instance.name}; deactivating it would take the site down. Activate another appserver first (only instances linked to a pull request may have none active).`);
    }
    await bumpLoadBalancers(tx, [instance.loadBalancerId]);
    await moveAppServer(tx, deps, "deactivated", {
      appServerId: as.id, actor: input.actor, set: { isActive: false }, where: { isActive: true },
      audit: { before: { isActive: true }, after: { isActive: false } },
    });
    return { instanceId: instance.id, loadBalancerId: instance.loadBalancerId, activated: [], deactivated: [as.id] };
  });
}
