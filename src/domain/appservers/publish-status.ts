// Tells every open page that an appserver's status changed (DESIGN §7): the outbox relay sends
// this for each lifecycle transition's "status-event" row once its transaction committed. Each
// web process relays it to the sockets in the rooms appserver:<id> and instance:<instanceId>
// (src/web/socket.ts).
import type { Deps } from "../../deps.js";
import { instanceChannel, statusChannel, type AppServerStatusMessage, type InstanceChangedMessage } from "../logs/live-channels.js";
import { askRedis } from "../../redis.js";

type PublishDeps = Pick<Deps, "redis" | "config" | "now">;

// ioredis (maxRetriesPerRequest null, for BullMQ) would hold a publish until Redis is back, and with
// it the outbox relay's transaction: the publish gives up after REDIS_TIMEOUT_MS instead, and at
// once while Redis is known to be away, and the relay keeps the event for its next pass.
function publish(deps: PublishDeps, change: AppServerStatusChange): Promise<number> {
  return askRedis(deps.redis, deps.config.REDIS_TIMEOUT_MS, () => deps.redis.publish(statusChannel(change.appServerId), JSON.stringify(statusMessage(deps, change))));
}

/** The message's fields; `at` (when the change happened) defaults to now, and pages ignore a
 *  change older than the one they show. */
export type AppServerStatusChange = Omit<AppServerStatusMessage, "at"> & { at?: Date };

/** Never throws: for callers whose change is committed already, where a page that misses this
 *  message gets the current status when it (re)subscribes. */
export async function publishAppServerStatus(deps: PublishDeps & Pick<Deps, "log">, change: AppServerStatusChange): Promise<void> {
  try {
    await publish(deps, change);
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
export async function announceAppServer(deps: PublishDeps & Pick<Deps, "db">, appServerId: number): Promise<void> {
  const row = await deps.db.appServer.findUnique({
    where: { id: appServerId },
    select: { instanceId: true, status: true, vmStatus: true, isActive: true, failureSummary: true },
  });
  if (row) await publish(deps, { appServerId, ...row });
}

/** The outbox relay's "instance-event": the instance's open pages render again. Throws when Redis refuses. */
export async function announceInstance(deps: PublishDeps, instanceId: number): Promise<void> {
  const message: InstanceChangedMessage = { instanceId, at: deps.now().toISOString() };
  await askRedis(deps.redis, deps.config.REDIS_TIMEOUT_MS, () => deps.redis.publish(instanceChannel(instanceId), JSON.stringify(message)));
}
