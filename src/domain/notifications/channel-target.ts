// Where a channel sends, as the pages, audit events and delivery errors may show it
// (docs/notifications.md). A webhook URL often is its own secret (Slack keeps it in the path,
// /services/T…/B…/X…; other receivers in a `?token=`), so outside the channel's edit form only its
// origin is shown, the rest masked as every other secret is (src/mask-text.ts): `••••••`, and
// `•••••• (changed)` in an audit diff where only the hidden part changed. Email addresses are shown.
import { CHANGED, MASK, createUrlMasker, maskUrl, type Masker } from "../../mask-text.js";
import type { NotificationChannel } from "../../generated/prisma/client.ts";

type Target = Pick<NotificationChannel, "kind" | "target">;

/** The target as an audit event or a page shows it: a webhook's origin and `••••••` for the rest. */
export function shownTarget(channel: Target): string {
  return channel.kind === "webhook" ? maskUrl(channel.target) : channel.target;
}

/**
 * The target for the "after" side of an audit diff: as shownTarget, and `•••••• (changed)` when the
 * URL changed where it is masked (same origin, another path or token), so that the change is told
 * without telling what either URL was.
 */
export function shownTargetAfter(after: Target, before: Target | null): string {
  const shown = shownTarget(after);
  if (!before || before.kind !== "webhook" || after.kind !== "webhook" || before.target === after.target) return shown;
  return shownTarget(before) === shown && shown.endsWith(`/${MASK}`) ? `${shown.slice(0, -MASK.length)}${CHANGED}` : shown;
}

/**
 * The one masker of a delivery's error text, applied where the outcome is recorded on the delivery
 * and in the error the worker logs (deliver-notification.ts): whatever an adapter, fetch or Node
 * said, no URL in it keeps more than its origin, and no part of the channel's URL (its user name
 * and password, path, query, a token-like segment) is left anywhere in it.
 */
export function deliveryErrorMasker(channel: Target | null): Masker {
  return createUrlMasker(channel?.kind === "webhook" ? channel.target : null);
}
