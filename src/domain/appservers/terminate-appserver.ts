// Terminate (DESIGN §9): only an inactive appserver. Runs in the request: the rules are checked
// and the terminated transition commits at once; the VM delete, the slow part, is queued by that
// transition through the outbox (src/domain/appservers/delete-appserver-vm.ts).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { canMove, moveAppServer, type TransitionResult } from "./lifecycle.js";

/** The rules, with a message a person can act on; the transition checks the state again. */
export async function assertTerminable(deps: Pick<Deps, "db">, appServerId: number) {
  const as = await deps.db.appServer.findUnique({ where: { id: appServerId }, include: { instance: { select: { name: true } } } });
  if (!as) throw new AppError("not_found", "AppServer not found.");
  if (as.isActive) throw new AppError("wrong_state", `${as.name} is active: deactivate it before terminating it.`);
  if (!canMove("terminated", as.status)) {
    throw new AppError("wrong_state", `${as.name} is ${as.status}; only running, failed or error appservers can be terminated${as.status === "configuring" || as.status === "waiting" || as.status === "new" ? " (cancel the provisioning first)" : ""}.`);
  }
  return as;
}

export async function terminateAppServer(
  deps: Pick<Deps, "db" | "now">,
  input: { appServerId: number; actor: Actor; reason?: string },
): Promise<TransitionResult> {
  const as = await assertTerminable(deps, input.appServerId);
  try {
    return await deps.db.$transaction((tx) =>
      moveAppServer(tx, deps, "terminated", {
        appServerId: as.id, actor: input.actor, set: { terminatedAt: deps.now() }, where: { isActive: false },
        audit: { after: { status: "terminated", reason: input.reason ?? "" } },
      }),
    );
  } catch (err) {
    // Changed since the rules were read (a colleague activated it a moment ago): the rules say what
    // stands in the way now ("is active: deactivate it…"), not the bare "running cannot go there".
    if (err instanceof AppError && err.code === "wrong_state") await assertTerminable(deps, input.appServerId);
    throw err;
  }
}

/**
 * Terminates every appserver of an instance that is not terminated yet, all or none (the
 * decommission panel's step): refused, naming them, while one is active (deactivate it first) or
 * still provisioning (cancel it first), so a bad order changes nothing.
 */
export async function terminateInstanceAppServers(
  deps: Pick<Deps, "db" | "now">,
  input: { instanceId: number; actor: Actor },
): Promise<TransitionResult[]> {
  return deps.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${input.instanceId} FOR UPDATE`;
    const instance = await tx.instance.findUnique({ where: { id: input.instanceId }, select: { name: true } });
    if (!instance) throw new AppError("not_found", "Instance not found.");
    const live = await tx.appServer.findMany({
      where: { instanceId: input.instanceId, status: { not: "terminated" } },
      select: { id: true, name: true, status: true, isActive: true }, orderBy: { number: "asc" },
    });
    if (!live.length) throw new AppError("rule", `Every appserver of ${instance.name} is terminated already; nothing changed.`);
    const names = (list: typeof live) => list.map((a) => `${a.name} (${a.status})`).join(", ");
    const active = live.filter((a) => a.isActive);
    if (active.length) throw new AppError("rule", `${names(active)} ${active.length === 1 ? "is" : "are"} active: deactivate first (put the instance in maintenance to deactivate the last one); nothing was terminated.`);
    const busy = live.filter((a) => !canMove("terminated", a.status));
    if (busy.length) throw new AppError("wrong_state", `${names(busy)} ${busy.length === 1 ? "is" : "are"} still provisioning: cancel ${busy.length === 1 ? "it" : "them"} on ${busy.length === 1 ? "its page" : "their pages"} first; nothing was terminated.`);
    const moved: TransitionResult[] = [];
    for (const as of live) {
      moved.push(await moveAppServer(tx, deps, "terminated", {
        appServerId: as.id, actor: input.actor, set: { terminatedAt: deps.now() }, where: { isActive: false },
        audit: { after: { status: "terminated", reason: "instance decommissioned" } },
      }));
    }
    return moved;
  });
}
