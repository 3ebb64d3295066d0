// Appserver actions as jobs (activate, deactivate, terminate): each runs its command with the
// actor loaded from its id, then enqueues the apply of the balancers it changed (after commit).
import type { Deps } from "../deps.js";
import type { Actor } from "../domain/audit/record-audit-event.js";
import { activateAppServer, deactivateAppServer } from "../domain/appservers/activation.js";
import { terminateAppServer } from "../domain/appservers/terminate-appserver.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";
import { JOB } from "./names.js";
import { announceAppServer } from "../domain/appservers/publish-status.js";
import type { Payload } from "./payloads.js";

async function actorOf(deps: Pick<Deps, "db">, actorId: number | null): Promise<Actor> {
  if (actorId === null) return { id: null, login: "ocim" };
  const user = await deps.db.user.findUnique({ where: { id: actorId }, select: { githubLogin: true } });
  return { id: actorId, login: user?.githubLogin ?? `user ${actorId}` };
}

export async function enqueueApply(deps: Pick<Deps, "jobs">, loadBalancerId: number | null): Promise<void> {
  if (loadBalancerId) await deps.jobs.enqueue(JOB.applyLoadBalancer, { loadBalancerId }, { attempts: 3, backoff: { type: "exponential", delay: 5000 } });
}

/**
 * Applies, soon, every balancer whose configuration is ahead of what it runs: after a change of
 * instances (domains, balancer, archived, deleted) that bumped their versions, so it does not wait
 * for the next lb-sync. One job per second at most: a burst of edits makes one apply.
 */
export async function enqueueBalancerSync(deps: Pick<Deps, "jobs">): Promise<void> {
  await deps.jobs.enqueue(JOB.lbSync, {}, { jobId: `${JOB.lbSync}-soon-${Math.floor(Date.now() / 1000)}`, attempts: 1 });
}

export async function runActivate(deps: Deps, p: Payload<typeof JOB.activateAppServer>): Promise<string> {
  const result = await activateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId), deactivateOthers: p.deactivateOthers });
  await enqueueApply(deps, result.loadBalancerId);
  for (const id of [...result.activated, ...result.deactivated]) await announceAppServer(deps, id);
  return p.deactivateOthers && result.deactivated.length
    ? `Activated; ${result.deactivated.length} other appserver(s) deactivated.`
    : "Activated.";
}

export async function runDeactivate(deps: Deps, p: Payload<typeof JOB.deactivateAppServer>): Promise<string> {
  const result = await deactivateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId) });
  await enqueueApply(deps, result.loadBalancerId);
  await announceAppServer(deps, p.appServerId);
  return "Deactivated.";
}

export async function runTerminate(deps: Deps, p: Payload<typeof JOB.terminateAppServer>, ports: ProvisioningPorts): Promise<string> {
  const as = await deps.db.appServer.findUniqueOrThrow({ where: { id: p.appServerId }, select: { providerKind: true } });
  await terminateAppServer(deps, { appServerId: p.appServerId, actor: await actorOf(deps, p.actorId), provider: ports.provider(as.providerKind) });
  await announceAppServer(deps, p.appServerId);
  return "Terminated; the VM was deleted.";
}
