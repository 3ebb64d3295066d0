// A notification channel's "Send test notification" button (domain/notifications/send-test-notification.ts).
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { flash } from "../middleware.js";
import { sendTestNotification } from "../../domain/notifications/send-test-notification.js";
import { notificationChannelAdmin } from "./models/notification-channels.js";
import { actorOf, idOf } from "./page-helpers.js";

export function notificationPages(deps: Deps) {
  return {
    async testSubmit(req: Request, res: Response) {
      const id = idOf(req, notificationChannelAdmin);
      const { name, enabled } = await sendTestNotification(deps, { channelId: id, actor: actorOf(req) });
      const disabled = enabled ? "" : " The channel is disabled: a test is sent all the same, its events are not until it is enabled.";
      flash(req, "ok", `A test notification to ${name} is queued; its outcome shows in the delivery log below (reload the page).${disabled}`);
      res.redirect(`/admin/notification-channels/${id}`);
    },
  };
}
