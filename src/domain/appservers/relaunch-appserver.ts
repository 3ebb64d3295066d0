// "Relaunch": a failed appserver's instance launched again with its current settings, in one step
// from the failed appserver's page. The same launch as "Launch new AppServer" (launchAppServer: the
// same rules, the provisioning cap, the form's one-time key, the audit row), which also records
// which appserver it replaces. The failed one is kept for debugging; cleanup removes it later.
import { AppError, notFound } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { launchAppServer } from "./launch-appserver.js";

/** The statuses a relaunch starts from: provisioning stopped (playbook failed, VM never came up). */
export const RELAUNCHABLE = new Set(["failed", "error"]);

export async function relaunchAppServer(deps: Parameters<typeof launchAppServer>[0], input: { appServerId: number; actor: Actor; launchKey?: string }) {
  const failed = await deps.db.appServer.findUnique({ where: { id: input.appServerId }, select: { id: true, name: true, instanceId: true, status: true } });
  if (!failed) throw notFound("AppServer");
  if (!RELAUNCHABLE.has(failed.status)) {
    throw new AppError("wrong_state", `Only a failed appserver is relaunched, and ${failed.name} is ${failed.status}. Launch a new appserver from the instance's page instead.`);
  }
  return launchAppServer(deps, { instanceId: failed.instanceId, actor: input.actor, launchKey: input.launchKey, relaunchOf: { id: failed.id, name: failed.name } });
}

