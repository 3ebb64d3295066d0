// An operator cancels a provisioning appserver. The status moves at once (the lifecycle's
// "cancelled" transition: compare-and-set, audit, live event); the provisioning job notices,
// kills the playbook on the VM and, for a VM that never came up, deletes it (DESIGN §5). It answers
// with the step it stopped, so the person is told what really stops (the playbook, or only a wait).
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { currentStep, type StepName } from "../provisioning/steps.js";
import { canMove, moveAppServer, type TransitionResult } from "./lifecycle.js";

export async function cancelAppServer(deps: Pick<Deps, "db" | "now">, input: { appServerId: number; actor: Actor }): Promise<TransitionResult & { step: StepName | null }> {
  return deps.db.$transaction(async (tx) => {
    const as = await tx.appServer.findUnique({ where: { id: input.appServerId }, select: { status: true, name: true } });
    if (!as) throw new AppError("not_found", "AppServer not found.");
    if (!canMove("cancelled", as.status)) {
      throw new AppError("wrong_state", `${as.name} is not being provisioned (it is ${as.status}); there is nothing to cancel.`);
    }
    const step = (await currentStep({ db: tx }, input.appServerId))?.name ?? null;
    const moved = await moveAppServer(tx, deps, "cancelled", {
      appServerId: input.appServerId, actor: input.actor, set: { failureSummary: `Cancelled by ${input.actor.login}.` },
    });
    return { ...moved, step };
  });
}
