// An operator cancels a provisioning appserver. The status moves at once (compare-and-set); the
// provisioning job notices, kills the playbook on the VM and, for a VM that never came up,
// deletes it (DESIGN §5).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { transition, type TransitionResult } from "./status.js";

export async function cancelAppServer(deps: Pick<Deps, "db">, input: { appServerId: number; actor: Actor }): Promise<TransitionResult> {
  return deps.db.$transaction(async (tx) => {
    const as = await tx.appServer.findUnique({ where: { id: input.appServerId }, select: { status: true, name: true, instanceId: true } });
    if (!as) throw new AppError("not_found", "AppServer not found.");
    const summary = `Cancelled by ${input.actor.login}.`;
    let result: TransitionResult;
    if (as.status === "configuring") {
      result = await transition(tx, input.appServerId, "markFailed", { failureSummary: summary });
    } else if (as.status === "new" || as.status === "waiting") {
      result = await transition(tx, input.appServerId, "markError", { failureSummary: summary });
    } else {
      throw new AppError("wrong_state", `${as.name} is not being provisioned (it is ${as.status}); there is nothing to cancel.`);
    }
    await recordAuditEvent(tx, {
      actor: input.actor, action: "appserver.cancelled", subjectType: "AppServer", subjectId: input.appServerId,
      subjectName: as.name, before: { status: as.status }, after: { status: result.to },
    });
    return result;
  });
}
