// The daily check (the daily-notifications job, 08:00 server time): one notification per instance
// whose certificate expires within EXPIRY_WARN_DAYS, and one per instance whose appservers the
// cleanup will terminate within a day (the cleanup plan as it will be a day from now: the same
// getCleanupPlan the plan page and the cleanup job use). Daily, so each says it once a day.
import type { Deps } from "../../deps.js";
import { getCleanupPlan } from "../cleanup/get-cleanup-plan.js";
import { recordNotification } from "./record-notification.js";

/** ACME certificates are renewed from 30 days before: one this close has failed to renew for 16 days. */
export const EXPIRY_WARN_DAYS = 14;
const DAY_MS = 86_400_000;

type DailyDeps = Pick<Deps, "db" | "config" | "now">;

export async function notifyDaily(deps: DailyDeps): Promise<{ certificates: number; cleanup: number }> {
  return { certificates: await notifyExpiringCertificates(deps), cleanup: await notifyCleanupTomorrow(deps) };
}

async function notifyExpiringCertificates(deps: DailyDeps): Promise<number> {
  const now = deps.now();
  const expiring = await deps.db.instanceCertificate.findMany({
    where: { certificatePem: { not: "" }, notAfter: { lte: new Date(now.getTime() + EXPIRY_WARN_DAYS * DAY_MS) } },
    select: { notAfter: true, source: true, lastError: true, instance: { select: { id: true, name: true } } },
    orderBy: { instanceId: "asc" },
  });
  for (const c of expiring) {
    const days = Math.max(0, Math.floor((c.notAfter!.getTime() - now.getTime()) / DAY_MS));
    const when = c.notAfter! <= now ? `expired on ${day(c.notAfter!)}` : `expires on ${day(c.notAfter!)} (in ${days} day${days === 1 ? "" : "s"})`;
    const fix = c.source === "custom"
      ? "It was uploaded by an admin and is not renewed by Ocim: upload its successor."
      : `Ocim could not renew it${c.lastError ? `: ${c.lastError}` : "."}`;
    await deps.db.$transaction((tx) => recordNotification(tx, {
      event: "certificate.expiring", instance: c.instance,
      subject: `Certificate ${c.notAfter! <= now ? "expired" : "expiring"}: ${c.instance.name}`,
      message: `The HTTPS certificate of ${c.instance.name} ${when}. ${fix}`,
      path: `/admin/instances/${c.instance.id}/certificate`,
    }));
  }
  return expiring.length;
}

async function notifyCleanupTomorrow(deps: DailyDeps): Promise<number> {
  const tomorrow = new Date(deps.now().getTime() + DAY_MS);
  const plan = await getCleanupPlan({ ...deps, now: () => tomorrow });
  const byInstance = new Map<number, typeof plan>();
  for (const item of plan.filter((p) => !p.fate.keep)) byInstance.set(item.instanceId, [...(byInstance.get(item.instanceId) ?? []), item]);
  for (const [instanceId, items] of byInstance) {
    const name = items[0]!.instanceName;
    const lines = items.map((i) => `- ${i.name} (${i.status}): ${i.fate.reason}`).join("\n");
    await deps.db.$transaction((tx) => recordNotification(tx, {
      event: "cleanup.tomorrow", instance: { id: instanceId, name },
      subject: `Cleanup within a day: ${items.length} appserver${items.length === 1 ? "" : "s"} of ${name}`,
      message: `The cleanup will terminate these appservers of ${name} within a day:\n${lines}\nPin one on its page to keep it.`,
      path: "/cleanup",
    }));
  }
  return byInstance.size;
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}
