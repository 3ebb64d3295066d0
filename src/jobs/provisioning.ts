// The provisioning job: the domain command plus what the queue needs around it.
import type { Deps } from "../deps.js";
import { provisionAppServer } from "../domain/provisioning/provision-appserver.js";
import type { ProvisioningPorts } from "../domain/provisioning/ports.js";
import { moveAppServerNow } from "../domain/appservers/lifecycle.js";
import { createRunLog } from "../domain/provisioning/run-log.js";
import { AppError } from "../errors.js";
import { countEndedStep, currentStep } from "../domain/provisioning/steps.js";
import { readSnapshot } from "../domain/appservers/config-snapshot.js";

async function recipeOf(deps: Deps, id: number): Promise<string> {
  const row = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { configSnapshot: true, name: true } });
  try {
    return readSnapshot(row.configSnapshot, row.name).recipe;
  } catch {
    return "unknown"; // an unreadable snapshot may be why it failed
  }
}

/** Whether a failure is retried is decided once, for every job, in registry.ts (retry.ts). */
export function runProvisioning(deps: Deps, payload: { appServerId: number }, ports: ProvisioningPorts, signal: AbortSignal) {
  return provisionAppServer(deps, payload, ports, { signal });
}

/**
 * Before a retry of a failure that may pass (a data service or the cloud down, SSH refused): the
 * appserver's log says what failed and when the next attempt comes, since the page shows only the
 * step's time growing meanwhile. Not being able to say so (the database away) changes nothing.
 */
export async function noteProvisioningRetry(deps: Deps, data: { appServerId?: number }, err: unknown, attempt: { next: number; of: number; inMs: number }): Promise<void> {
  if (!data.appServerId) return;
  const reason = (err as Error)?.message || "Provisioning failed.";
  const seconds = Number((attempt.inMs / 1000).toFixed(1));
  await createRunLog(deps, data.appServerId, [])
    .warn(`${reason.replace(/\.?$/, ".")} Trying again in ${seconds} s (attempt ${attempt.next} of ${attempt.of}).`)
    .catch((e: unknown) => deps.log.warn({ err: e, appServerId: data.appServerId }, "provisioning.retry_not_logged"));
}

/** After the last attempt: the appserver ends in a clear status with the reason. */
export async function handleProvisioningFailure(deps: Deps, data: { appServerId?: number }, err: unknown): Promise<void> {
  const id = data.appServerId;
  if (!id) return;
  const as = await deps.db.appServer.findUnique({ where: { id }, select: { status: true } });
  if (!as) return;
  const reason = (err as Error)?.message || "Provisioning failed.";
  const log = createRunLog(deps, id, []);
  // A lost race (the status moved meanwhile) is fine; when the database itself is down this
  // throws, the appserver stays where it was, and the reconciler resumes it later.
  const name = as.status === "configuring" ? "failed" : as.status === "new" || as.status === "waiting" ? "error" : null;
  if (!name) return;
  const open = await currentStep(deps, id);
  try {
    await moveAppServerNow(deps, name, { appServerId: id, set: { failureSummary: reason } });
  } catch (err) {
    if (!(err instanceof AppError && err.code === "wrong_state")) throw err;
    return;
  }
  // The transition ended the step the job was in: it counts now, as failed.
  if (open?.started) {
    await countEndedStep(deps, id, open.name, await recipeOf(deps, id)).catch((err) => deps.log.warn({ err }, "metrics.step_not_counted"));
  }
  await log.error(`Provisioning stopped: ${reason}`);
}
