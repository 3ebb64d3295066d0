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
  if (as.isActive) throw new AppError("rule", `${as.name} is active: deactivate it before terminating it.`);
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
  return deps.db.$transaction((tx) =>
    moveAppServer(tx, deps, "terminated", {
      appServerId: as.id, actor: input.actor, set: { terminatedAt: deps.now() }, where: { isActive: false },
      audit: { after: { status: "terminated", reason: input.reason ?? "" } },
    }),
  );
}
