// Tells every open page that an appserver's status changed (DESIGN §7): the outbox relay sends
// this for each lifecycle transition's "status-event" row once its transaction committed. Each
// web process relays it to the sockets in the rooms appserver:<id> and instance:<instanceId>
// (src/web/socket.ts).
import type { Deps } from "../../deps.js";
import { statusChannel, type AppServerStatusMessage } from "../logs/live-channels.js";

/** The message's fields; `at` (when the change happened) defaults to now, and pages ignore a
 *  change older than the one they show. */
export type AppServerStatusChange = Omit<AppServerStatusMessage, "at"> & { at?: Date };

/** Never throws: for callers whose change is committed already, where a page that misses this
 *  message gets the current status when it (re)subscribes. */
export async function publishAppServerStatus(deps: Pick<Deps, "redis" | "log" | "now">, change: AppServerStatusChange): Promise<void> {
  try {
    await deps.redis.publish(statusChannel(change.appServerId), JSON.stringify(statusMessage(deps, change)));
  } catch (err) {
    deps.log.warn({ err, appServerId: change.appServerId }, "appserver.status.publish_failed");
  }
}

function statusMessage(deps: Pick<Deps, "now">, change: AppServerStatusChange): AppServerStatusMessage {
  return {
    appServerId: change.appServerId,
    instanceId: change.instanceId,
    status: change.status,
    vmStatus: change.vmStatus,
    ...(change.isActive !== undefined ? { isActive: change.isActive } : {}),
    ...(change.failureSummary !== undefined ? { failureSummary: change.failureSummary } : {}),
    at: (change.at ?? deps.now()).toISOString(),
  };
}

/**
 * Publishes an appserver's current status fields as stored: the outbox relay's "status-event".
 * Throws when Redis refuses, so the relay keeps the event and sends it again.
 */
export async function announceAppServer(deps: Pick<Deps, "db" | "redis" | "now">, appServerId: number): Promise<void> {
  const row = await deps.db.appServer.findUnique({
    where: { id: appServerId },
    select: { instanceId: true, status: true, vmStatus: true, isActive: true, failureSummary: true },
  });
  if (row) await deps.redis.publish(statusChannel(appServerId), JSON.stringify(statusMessage(deps, { appServerId, ...row })));
}
