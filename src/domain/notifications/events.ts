// The events a notification channel may subscribe to (docs/notifications.md). Their names are
// stored in channels and deliveries and sent in webhook payloads: a public contract, never renamed.
export const NOTIFICATION_EVENTS = {
  "launch.failed": "A launch failed (with the failing task)",
  "launch.succeeded": "A launch succeeded (the appserver is running)",
  "appserver.activated": "An appserver was activated",
  "appserver.terminated": "An appserver was terminated",
  "balancer.apply_failed": "A load balancer apply failed",
  "certificate.expiring": "A certificate will expire within 14 days",
  "cleanup.tomorrow": "The cleanup will terminate appservers within a day",
} as const;

export type NotificationEvent = keyof typeof NOTIFICATION_EVENTS;

export const EVENT_NAMES = Object.keys(NOTIFICATION_EVENTS) as NotificationEvent[];

/**
 * The events of no instance (recordNotification with `instance: null`): only fleet-wide channels get
 * them, so a channel of one instance cannot have only these.
 */
export const FLEET_WIDE_EVENTS: readonly NotificationEvent[] = ["balancer.apply_failed"];

/** The "Send test notification" button's event; no channel subscribes to it. */
export const TEST_EVENT = "test";
