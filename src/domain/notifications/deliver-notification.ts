// Sends one delivery (the send-notification job, src/jobs/registry.ts) and records the outcome on
// it: sent, or the error with the attempt count. A failure a retry may fix throws
// AppError("unavailable"), so the worker's one retry rule (src/jobs/retry.ts) tries again after
// the backoff; a refusal (a 4xx, a refused recipient, a URL fetch cannot send) throws a rule error
// and is not retried. The error text is masked here, the one place it is recorded and thrown to the
// worker's log (channel-target.ts): no URL keeps more than its origin.
import type { Deps } from "../../deps.js";
import { publicUrlOf } from "../../config.js";
import { AppError } from "../../errors.js";
import { NotifySendError } from "../../adapters/notify/port.js";
import { deliveryErrorMasker } from "./channel-target.js";
import { TEST_EVENT } from "./events.js";
import type { NotificationChannel, NotificationDelivery } from "../../generated/prisma/client.ts";

type DeliverDeps = Pick<Deps, "db" | "now" | "config" | "secrets" | "notify">;

export interface DeliverInput {
  deliveryId: number;
  /** No retry follows this attempt: a failure is final. */
  lastAttempt: boolean;
}

export async function deliverNotification(deps: DeliverDeps, input: DeliverInput): Promise<string> {
  const delivery = await deps.db.notificationDelivery.findUnique({ where: { id: input.deliveryId }, include: { channel: true } });
  if (!delivery) return "gone: the channel was deleted";
  if (delivery.status !== "pending") return `already ${delivery.status}`;
  const attempts = delivery.attempts + 1;
  try {
    // Events are recorded for enabled channels only: one disabled since is not told. A test is an
    // explicit request from the channel's page, sent whether the channel is enabled or not, so that
    // a channel can be tried before it is enabled.
    if (!delivery.channel.enabled && delivery.event !== TEST_EVENT) throw new NotifySendError("The channel was disabled before this could be sent.", false);
    await send(deps, delivery.channel, delivery);
  } catch (err) {
    const failure = err instanceof NotifySendError ? err : new NotifySendError(`Unexpected error: ${(err as Error)?.message ?? String(err)}`, true);
    const final = input.lastAttempt || !failure.transient;
    const message = deliveryErrorMasker(delivery.channel)(failure.message).slice(0, 1000);
    await deps.db.notificationDelivery.update({
      where: { id: delivery.id },
      data: { attempts, lastError: message, status: final ? "failed" : "pending" },
    });
    // A new error with the masked text only (its stack too): not the original, whose message, stack
    // or cause may hold the whole URL.
    throw new AppError(failure.transient ? "unavailable" : "rule", message);
  }
  await deps.db.notificationDelivery.update({ where: { id: delivery.id }, data: { attempts, status: "sent", sentAt: deps.now() } });
  return `sent on attempt ${attempts}`;
}

async function send(deps: DeliverDeps, channel: NotificationChannel, d: NotificationDelivery): Promise<void> {
  const url = d.path ? `${publicUrlOf(deps)}${d.path}` : publicUrlOf(deps);
  if (channel.kind === "email") {
    return deps.notify.sendEmail({ to: channel.target.split("\n").filter(Boolean), subject: `[Ocim] ${d.subject}`, text: `${d.message}\n\n${url}\n` });
  }
  const body = JSON.stringify(channel.slackFormat ? slackPayload(d, url) : ocimPayload(d, url));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "Ocim-Notifications",
    "x-ocim-event": d.event,
    "x-ocim-delivery": String(d.id),
  };
  // Like GitHub's X-Hub-Signature-256: the receiver recomputes the HMAC of the raw body with the shared secret.
  if (channel.secretEncrypted) headers["x-ocim-signature"] = `sha256=${deps.secrets.hmac(deps.secrets.decrypt(channel.secretEncrypted), body)}`;
  return deps.notify.postWebhook({ url: channel.target, body, headers });
}

/** Ocim's own JSON (docs/notifications.md, "Webhook payload"). */
export function ocimPayload(d: NotificationDelivery, url: string) {
  return {
    event: d.event,
    instance: d.instanceId ? { id: d.instanceId, name: d.instanceName } : null,
    appserver: d.appServerId ? { id: d.appServerId, name: d.appServerName } : null,
    subject: d.subject,
    message: d.message,
    url,
    at: d.createdAt.toISOString(),
  };
}

/** Slack's incoming webhook takes {text} in its mrkdwn, links as <url|label> (https://api.slack.com/messaging/webhooks). */
export function slackPayload(d: NotificationDelivery, url: string) {
  const escape = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return { text: `*${escape(d.subject)}*\n${escape(d.message)}\n<${url}|Open in Ocim>` };
}
