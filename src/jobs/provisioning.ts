// The provisioning job: the domain command plus what the queue needs around it.
import type { Deps } from "../deps.js";
import { provisionAppServer } from "../domain/provisioning/provision-appserver.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";
import { transition } from "../domain/appservers/status.js";
import { announceAppServer } from "../domain/appservers/publish-status.js";
import { createRunLog } from "../domain/provisioning/run-log.js";

/** Whether a failure is retried is decided once, for every job, in registry.ts (retry.ts). */
export function runProvisioning(deps: Deps, payload: { appServerId: number }, ports: ProvisioningPorts, signal: AbortSignal) {
  return provisionAppServer(deps, payload, ports, { signal });
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
