// Records a notification where the thing happens, in the caller's transaction: one delivery row
// per enabled channel that subscribes to the event (fleet-wide, or of the event's instance) and
// an outbox row each, which the relay turns into a send-notification job once the transaction
// commits (src/domain/appservers/outbox.ts). Sending is the job's: a receiver that is down never
// holds up or rolls back the action itself.
import type { Prisma } from "../../db.js";
import { OUTBOX, writeOutbox } from "../appservers/outbox.js";
import type { NotificationEvent } from "./events.js";

type Tx = Pick<Prisma.TransactionClient, "notificationChannel" | "notificationDelivery" | "outboxMessage" | "$executeRaw">;

export interface NotificationInput {
  event: NotificationEvent;
  instance: { id: number; name: string } | null;
  appServer?: { id: number; name: string } | null;
  subject: string;
  message: string;
  /** The console page it is about, a path below PUBLIC_URL ("/appservers/12"). */
  path: string;
}

/** The rows of one delivery, for this module and the test button. */
export function deliveryData(channelId: number, n: Omit<NotificationInput, "event"> & { event: string }) {
  return {
    channelId, event: n.event, subject: n.subject.slice(0, 500), message: n.message.slice(0, 8000), path: n.path,
    instanceId: n.instance?.id ?? null, instanceName: n.instance?.name ?? "",
    appServerId: n.appServer?.id ?? null, appServerName: n.appServer?.name ?? "",
  };
}

export async function recordNotification(tx: Tx, input: NotificationInput): Promise<number[]> {
  const channels = await tx.notificationChannel.findMany({
    where: {
      enabled: true,
      events: { has: input.event },
      OR: [{ instanceId: null }, ...(input.instance ? [{ instanceId: input.instance.id }] : [])],
    },
    select: { id: true },
  });
  if (!channels.length) return [];
  const ids: number[] = [];
  for (const channel of channels) {
    ids.push((await tx.notificationDelivery.create({ data: deliveryData(channel.id, input), select: { id: true } })).id);
  }
  await writeOutbox(tx, ids.map((deliveryId) => ({ kind: OUTBOX.sendNotification, payload: { deliveryId } })));
  return ids;
}
