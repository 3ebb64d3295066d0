// Terminate (DESIGN §9): only an inactive appserver. The provider deletes the VM (idempotent:
// a VM already gone is fine), then the compare-and-set transition records terminatedAt.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import type { VmProvider } from "../provisioning/ports.js";
import { transition, TRANSITIONS } from "./status.js";

/** The rule check, for the page and the API before the job is queued; the job checks again. */
export async function assertTerminable(deps: Pick<Deps, "db">, appServerId: number) {
  const as = await deps.db.appServer.findUnique({ where: { id: appServerId }, include: { instance: { select: { name: true } } } });
  if (!as) throw new AppError("not_found", "AppServer not found.");
  if (as.isActive) throw new AppError("rule", `${as.name} is active: deactivate it before terminating it.`);
  if (!(TRANSITIONS.terminate.from as readonly string[]).includes(as.status)) {
    throw new AppError("wrong_state", `${as.name} is ${as.status}; only running, failed or error appservers can be terminated${as.status === "configuring" || as.status === "waiting" || as.status === "new" ? " (cancel the provisioning first)" : ""}.`);
  }
  return as;
}

export async function terminateAppServer(
  deps: Pick<Deps, "db" | "now">,
  input: { appServerId: number; actor: Actor; provider: VmProvider; reason?: string },
): Promise<void> {
  const as = await assertTerminable(deps, input.appServerId);
  if (as.providerServerId) await input.provider.deleteServer(as.providerServerId);
  await deps.db.$transaction(async (tx) => {
    await transition(tx, as.id, "terminate", { terminatedAt: deps.now(), vmStatus: "terminated" }, { isActive: false });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "appserver.terminated", subjectType: "AppServer", subjectId: as.id,
      subjectName: `${as.instance.name} / ${as.name}`, before: { status: as.status }, after: { status: "terminated", reason: input.reason ?? "" },
    });
  });
}
