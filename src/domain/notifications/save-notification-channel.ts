// Creates or changes a notification channel (docs/notifications.md). Every bad value gets a
// message next to its field and nothing is saved. The webhook secret is write-only: encrypted with
// SECRET_KEY, never shown again, kept when an edit leaves it blank; audit events only say it changed.
// A webhook URL's path and query are often a secret too (Slack's): audit events keep its origin only
// (channel-target.ts).
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { NotificationChannel } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { EVENT_NAMES, FLEET_WIDE_EVENTS, NOTIFICATION_EVENTS } from "./events.js";
import { shownTarget, shownTargetAfter } from "./channel-target.js";
import { MASK } from "../../mask-text.js";

export const CHANNEL_FIELDS = ["name", "kind", "target", "instanceId", "events", "slackFormat", "secret", "enabled"] as const;
export const CHANNEL_KINDS = ["email", "webhook"] as const;
const email = z.email();

export interface SaveChannelInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

function readChannel(values: Input) {
  const r = new FieldReader(values, CHANNEL_FIELDS);
  const name = r.text("name", { required: true, max: 100 });
  const kind = r.choice("kind", CHANNEL_KINDS);
  const target = kind === "webhook" ? readUrl(r) : readAddresses(r);
  const instanceText = r.text("instanceId", { max: 12 });
  const instanceId = instanceText ? r.int("instanceId", { min: 1, max: 2_147_483_647 }) : null;
  const events = r.lines("events", { maxItems: EVENT_NAMES.length, maxLength: 50 });
  const unknown = events.find((e) => !(EVENT_NAMES as string[]).includes(e));
  if (unknown) r.fail("events", `"${unknown.slice(0, 40)}" is not an event Ocim sends; choose among the boxes.`);
  else if (!events.length) r.fail("events", "Choose at least one event, or the channel never receives anything.");
  else if (instanceId !== null && events.every((e) => (FLEET_WIDE_EVENTS as string[]).includes(e))) {
    const names = FLEET_WIDE_EVENTS.filter((e) => events.includes(e)).map((e) => `"${NOTIFICATION_EVENTS[e]}" (${e})`).join(", ");
    r.fail("events", `A channel of one instance never receives ${names}: it has no instance, so only fleet-wide channels get it. Choose an event of the instance as well, or "All instances (fleet-wide)" as the instance.`);
  }
  const slackFormat = r.bool("slackFormat");
  const secret = r.text("secret", { max: 500 });
  if (kind === "email" && slackFormat) r.fail("slackFormat", "The Slack format is for webhooks; an email channel sends plain text.");
  if (kind === "email" && secret) r.fail("secret", "A signing secret is for webhooks; leave it blank for an email channel.");
  const enabled = r.bool("enabled");
  if (!r.ok) throw validationError(r.errors);
  return { name, kind: kind!, target, instanceId, events: EVENT_NAMES.filter((e) => events.includes(e)), slackFormat, secret, enabled };
}

function readUrl(r: FieldReader): string {
  const text = r.text("target", { required: true, max: 2000 });
  if (!text) return "";
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // told below
  }
  if (!url || !["http:", "https:"].includes(url.protocol) || !url.hostname) {
    r.fail("target", `"${text.slice(0, 60)}" is not a web address: enter the full URL the webhook posts to, starting with https:// (or http:// for a receiver on your own network), e.g. https://hooks.slack.com/services/….`);
    return "";
  }
  // fetch refuses such a URL on every delivery (and its error repeats the whole URL).
  if (url.username || url.password) {
    r.fail("target", "Remove the user name and password (the part before @): a webhook URL cannot carry them, Ocim never sends them. Put the receiver's token where the receiver gives it, in the URL's path or query (as Slack's incoming webhooks do), or set a signing secret below to have each POST signed.");
    return "";
  }
  return url.toString();
}

function readAddresses(r: FieldReader): string {
  const list = r.lines("target", { maxItems: 20, maxLength: 254 }).flatMap((l) => l.split(",")).map((a) => a.trim()).filter(Boolean);
  if (r.hasError("target")) return "";
  if (!list.length) r.fail("target", "Enter at least one email address, one per line.");
  const bad = list.find((a) => !email.safeParse(a).success);
  if (bad) r.fail("target", `"${bad.slice(0, 60)}" is not an email address (like ops@example.com); enter one address per line.`);
  return [...new Set(list.map((a) => a.toLowerCase()))].join("\n");
}

/** The channel as its audit events record it: the secret and a webhook URL's secret part masked. */
function auditView(c: NotificationChannel, secretChanged: boolean, before: NotificationChannel | null): Record<string, unknown> {
  const secret = c.secretEncrypted ? (secretChanged ? `${MASK} (new)` : MASK) : "";
  return { name: c.name, kind: c.kind, target: shownTargetAfter(c, before), instanceId: c.instanceId, events: c.events, slackFormat: c.slackFormat, secret, enabled: c.enabled };
}

export async function saveNotificationChannel(deps: Pick<Deps, "db" | "secrets">, input: SaveChannelInput): Promise<NotificationChannel> {
  const data = readChannel(input.values);
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.notificationChannel.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Notification channel");
      if (data.instanceId !== null && !(await tx.instance.findUnique({ where: { id: data.instanceId }, select: { id: true } }))) {
        throw validationError({ instanceId: "That instance no longer exists; choose another, or all instances." });
      }
      // Names are told apart by more than case ("Ops" and "ops" would be one channel to a reader).
      // Checked when a name is given or changed: two names saved before this rule stay until renamed.
      if (!before || before.name !== data.name) {
        const same = await tx.notificationChannel.findFirst({
          where: { name: { equals: data.name, mode: "insensitive" }, ...(before ? { id: { not: before.id } } : {}) },
          select: { name: true },
        });
        if (same) throw validationError({ name: `Another notification channel is named "${same.name}": names must differ by more than upper or lower case.` });
      }
      const fields = {
        name: data.name, kind: data.kind, target: data.target, instanceId: data.instanceId, events: data.events,
        slackFormat: data.slackFormat, enabled: data.enabled,
        // An email channel has no secret: switching a webhook to email drops its secret.
        ...(data.kind === "email" ? { secretEncrypted: "" } : data.secret ? { secretEncrypted: deps.secrets.encrypt(data.secret) } : {}),
      };
      const after = before
        ? await tx.notificationChannel.update({ where: { id: before.id }, data: fields })
        : await tx.notificationChannel.create({ data: fields });
      const beforeView = before && auditView(before, false, null);
      const afterView = auditView(after, Boolean(data.secret), before);
      if (!before || Object.keys(diffRecords(beforeView, afterView)).length) {
        await recordAuditEvent(tx, {
          actor: input.actor, action: before ? "notification_channel.updated" : "notification_channel.created", subjectType: "NotificationChannel",
          subjectId: after.id, subjectName: after.name, before: beforeView, after: afterView,
        });
      }
      return after;
    });
  } catch (err) {
    rethrowUniqueViolation(err, { name: "Another notification channel already has this name." });
  }
}

export async function deleteNotificationChannels(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    const channels = await tx.notificationChannel.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, kind: true, target: true } });
    if (!ids.length || channels.length !== ids.length) throw notFound(ids.length > 1 ? "One of the notification channels" : "Notification channel");
    await tx.notificationChannel.deleteMany({ where: { id: { in: ids } } });
    for (const c of channels) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "notification_channel.deleted", subjectType: "NotificationChannel", subjectId: c.id,
        subjectName: c.name, before: { name: c.name, kind: c.kind, target: shownTarget(c) },
      });
    }
    return { deleted: channels.length };
  });
}
