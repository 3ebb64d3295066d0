// The provisioning job: the domain command plus what the queue needs around it.
import { UnrecoverableError } from "bullmq";
import type { Deps } from "../deps.js";
import { provisionAppServer, PlaybookNotStarted } from "../domain/provisioning/provision-appserver.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";
import { transition } from "../domain/appservers/status.js";
import { announceAppServer } from "../domain/appservers/publish-status.js";
import { createRunLog } from "../domain/provisioning/run-log.js";
import { AppError } from "../errors.js";

export async function runProvisioning(deps: Deps, payload: { appServerId: number }, ports: ProvisioningPorts, signal: AbortSignal) {
  try {
    return await provisionAppServer(deps, payload, ports, { signal });
  } catch (err) {
    // Not worth retrying: a wrong repository or branch, a permanent provider refusal.
    if (err instanceof PlaybookNotStarted || (err instanceof AppError && err.code !== "unavailable")) {
      throw new UnrecoverableError((err as Error).message);
    }
    if ((err as { permanent?: boolean }).permanent) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
}

/** After the last attempt: the appserver ends in a clear status with the reason. */
export async function handleProvisioningFailure(deps: Deps, data: { appServerId?: number }, err: unknown): Promise<void> {
  const id = data.appServerId;
  if (!id) return;
  const as = await deps.db.appServer.findUnique({ where: { id }, select: { status: true } });
  if (!as) return;
  const reason = (err as Error)?.message || "Provisioning failed.";
  const log = await createRunLog(deps, id, []);
  if (as.status === "new" || as.status === "waiting") {
    await transition(deps.db, id, "markError", { failureSummary: reason }).catch(() => undefined);
  } else if (as.status === "configuring") {
    await transition(deps.db, id, "markFailed", { failureSummary: reason }).catch(() => undefined);
  } else {
    return;
  }
  await announceAppServer(deps, id);
  await log.error(`Provisioning stopped: ${reason}`);
}
