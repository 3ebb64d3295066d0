// Notification channels in the admin (docs/notifications.md): the form with a box per event, the
// channel's last deliveries with their outcome, and "Send test notification". The webhook's signing
// secret is write-only: the pages only say whether it is set.
import type { Prisma } from "../../../db.js";
import type { Deps } from "../../../deps.js";
import { CHANNEL_KINDS, deleteNotificationChannels, saveNotificationChannel } from "../../../domain/notifications/save-notification-channel.js";
import { NOTIFICATION_EVENTS, EVENT_NAMES } from "../../../domain/notifications/events.js";
import { defineModel, type Cell, type Option } from "../types.js";
import { choiceFilter, instanceOptions, plural, titled } from "./common.js";

const listSelect = { id: true, name: true, kind: true, target: true, events: true, enabled: true, instance: { select: { id: true, name: true } }, updatedAt: true } as const;
type Row = Prisma.NotificationChannelGetPayload<{ select: typeof listSelect }>;

/** The deliveries a channel's page lists, newest first. */
export const DELIVERY_LOG_SIZE = 50;
const STATUS_BADGE = { pending: "status-waiting", sent: "status-running", failed: "status-failed" } as const;

async function instanceChoices(deps: Deps): Promise<Record<string, Option[]>> {
  return { instanceId: [{ value: "", label: "All instances (fleet-wide)" }, ...(await instanceOptions(deps, { isArchived: false }))] };
}

async function deliveryLog(deps: Deps, id: number): Promise<Cell[][]> {
  const rows = await deps.db.notificationDelivery.findMany({ where: { channelId: id }, orderBy: { id: "desc" }, take: DELIVERY_LOG_SIZE });
  return rows.map((d) => [
    d.createdAt,
    { text: d.event, mono: true },
    d.subject,
    { text: d.status, badge: STATUS_BADGE[d.status] },
    plural(d.attempts, "attempt"),
    d.sentAt,
    d.lastError,
  ]);
}

export const notificationChannelAdmin = defineModel<Row>({
  slug: "notification-channels",
  name: "Notification channel",
  plural: "Notification channels",
  description: "Email addresses and webhooks told of failed launches, activations, balancer failures, expiring certificates and tomorrow's cleanup.",
  subjectType: "NotificationChannel",
  titleOf: (row) => row.name,
  list: {
    columns: [
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/notification-channels/${r.id}` }) },
      { label: "Kind", sort: "kind", cell: (r) => r.kind },
      { label: "To", cell: (r) => ({ text: r.kind === "email" ? r.target.split("\n").join(", ") : new URL(r.target).host, mono: true }) },
      { label: "Instance", cell: (r) => (r.instance ? { text: r.instance.name, href: `/instances/${r.instance.id}` } : "all (fleet-wide)") },
      { label: "Events", cell: (r) => plural(r.events.length, "event") },
      { label: "Enabled", sort: "enabled", cell: (r) => r.enabled },
      { label: "Updated", sort: "updatedAt", cell: (r) => r.updatedAt },
    ],
    search: { fields: ["name", "target"], hint: "name, address or URL" },
    filters: [choiceFilter("kind", "Kind", "kind", CHANNEL_KINDS)],
    defaultOrder: "name",
    fetch: (db, args) => db.notificationChannel.findMany({ ...(args as Prisma.NotificationChannelFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.notificationChannel.count({ where: where as Prisma.NotificationChannelWhereInput }),
  },
  form: {
    sections: [
      {
        title: "Channel",
        fields: [
          { name: "name", label: "Name", kind: "text", required: true, maxLength: 100, half: true },
          { name: "kind", label: "Kind", kind: "select", half: true, options: () => CHANNEL_KINDS.map((k) => ({ value: k, label: k })) },
          { name: "target", label: "Send to", kind: "textarea", rows: 3, mono: true, required: true, maxLength: 6000, help: "Email: addresses, one per line (sent through SMTP_URL). Webhook: the URL Ocim POSTs JSON to, e.g. a Slack incoming webhook; a token goes in its path or query, never as user:password@. Outside this form only its origin is shown." },
          { name: "instanceId", label: "Instance", kind: "select", help: "Only this instance's events, or every instance's. Load balancer events go to fleet-wide channels only." },
          { name: "enabled", label: "Enabled", kind: "checkbox" },
        ],
      },
      {
        title: "Events",
        fields: [{ name: "events", label: "Send a notification when", kind: "checkboxes", options: () => EVENT_NAMES.map((e) => ({ value: e, label: NOTIFICATION_EVENTS[e] })) }],
      },
      {
        title: "Webhook options",
        help: "Ignored for email.",
        fields: [
          { name: "slackFormat", label: "Slack format: post {\"text\": …} (Slack's incoming webhooks) instead of Ocim's JSON", kind: "checkbox" },
          { name: "secret", label: "Signing secret", kind: "secret", rows: 1, mono: true, maxLength: 500, help: "When set, each POST carries X-Ocim-Signature: sha256=<HMAC-SHA256 of the body with this secret>. Stored encrypted and never shown again; leave blank to keep the current one." },
        ],
      },
    ],
    choices: instanceChoices,
    initial: () => ({ kind: "webhook", enabled: "true", events: "launch.failed\nbalancer.apply_failed" }),
    async load(deps, id) {
      const c = await deps.db.notificationChannel.findUnique({ where: { id } });
      if (!c) return null;
      return {
        title: c.name,
        values: {
          name: c.name, kind: c.kind, target: c.target, instanceId: c.instanceId ? String(c.instanceId) : "",
          events: c.events.join("\n"), slackFormat: String(c.slackFormat), enabled: String(c.enabled),
        },
        readOnly: [
          ...(c.kind === "webhook" ? [{ label: "Signing secret", value: c.secretEncrypted ? "set (encrypted)" : "not set" }] : []),
          { label: "Updated", value: c.updatedAt },
        ],
      };
    },
    async save(deps, actor, id, values) {
      const saved = await saveNotificationChannel(deps, { actor, id, values });
      const note = saved.kind === "email" && !deps.config.SMTP_URL ? "SMTP_URL is not set, so its emails will fail until it is (see docs/notifications.md)." : undefined;
      return { ...titled(saved), ...(note ? { note } : {}) };
    },
  },
  async extras(deps, id) {
    return {
      actions: [{ label: "Send test notification", path: `/admin/notification-channels/${id}/test` }],
      panels: [{
        title: `Delivery log (last ${DELIVERY_LOG_SIZE})`,
        columns: ["Created", "Event", "Subject", "Status", "Attempts", "Sent", "Last error"],
        rows: await deliveryLog(deps, id),
        empty: "Nothing was sent to this channel yet.",
      }],
    };
  },
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.notificationChannel.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, _count: { select: { deliveries: true } } }, orderBy: { name: "asc" } });
      return rows.map((r) => ({ id: r.id, title: r.name, consequences: [`Its delivery log (${plural(r._count.deliveries, "delivery", "deliveries")}) is deleted with it; pending ones are not sent.`] }));
    },
    run: (deps, actor, ids) => deleteNotificationChannels(deps, { actor, ids }),
  },
});
