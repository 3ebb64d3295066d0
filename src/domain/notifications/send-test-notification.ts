// The channel page's "Send test notification": one delivery of the "test" event to this channel
// only, sent by the same job, retries and log as every other, so it tests the real path. A disabled
// channel gets it too (an explicit request): that is how a channel is tried before it is enabled.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { OUTBOX, writeOutbox } from "../appservers/outbox.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { deliveryData } from "./record-notification.js";
import { TEST_EVENT } from "./events.js";

export async function sendTestNotification(deps: Pick<Deps, "db">, input: { channelId: number; actor: Actor }): Promise<{ deliveryId: number; name: string; enabled: boolean }> {
  return deps.db.$transaction(async (tx) => {
    const channel = await tx.notificationChannel.findUnique({ where: { id: input.channelId }, select: { id: true, name: true, enabled: true } });
    if (!channel) throw notFound("Notification channel");
    const delivery = await tx.notificationDelivery.create({
      data: deliveryData(channel.id, {
        event: TEST_EVENT, instance: null, appServer: null, path: `/admin/notification-channels/${channel.id}`,
        subject: `Test notification to ${channel.name}`,
        message: `${input.actor.login} sent this test from the admin page of the channel "${channel.name}". If you read it, the channel works.`,
      }),
      select: { id: true },
    });
    await writeOutbox(tx, [{ kind: OUTBOX.sendNotification, payload: { deliveryId: delivery.id } }]);
    await recordAuditEvent(tx, { actor: input.actor, action: "notification_channel.tested", subjectType: "NotificationChannel", subjectId: channel.id, subjectName: channel.name });
    return { deliveryId: delivery.id, name: channel.name, enabled: channel.enabled };
  });
}
