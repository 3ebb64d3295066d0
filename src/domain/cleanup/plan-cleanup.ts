// The cleanup plan (DESIGN §10): every live appserver with its fate and the reason, computed the
// same way for the "Cleanup plan" page and for the daily job, so the page shows exactly what the
// job will do. Pure: it takes rows and a time, and decides.

export type Fate =
  | { keep: true; reason: "active" | "pinned" | "candidate" | "fallback" | "provisioning" | "too young"; dueOn?: Date }
  | { keep: false; reason: string };

export interface PlanRow {
  id: number;
  instanceId: number;
  name: string;
  status: string;
  isActive: boolean;
  isPinned: boolean;
  createdAt: Date;
  lastActivatedAt: Date | null;
  /** A pull-request sandbox whose pull request closed: the day its appservers go, active or not (docs/pr-sandboxes.md). */
  sandboxRemoveOn?: Date | null;
}

export interface PlanSettings {
  failedDays: number;
  inactiveDays: number;
}

const DAY = 86_400_000;
const addDays = (d: Date, days: number) => new Date(d.getTime() + days * DAY);

/** Decides the fate of every non-terminated appserver; `rows` may include terminated ones (for activation history). */
export function planCleanup(rows: PlanRow[], settings: PlanSettings, now: Date): Map<number, Fate> {
  const fates = new Map<number, Fate>();
  const byInstance = new Map<number, PlanRow[]>();
  for (const r of rows) byInstance.set(r.instanceId, [...(byInstance.get(r.instanceId) ?? []), r]);
  for (const list of byInstance.values()) {
    const lastActivation = list.reduce<Date | null>((max, r) => (r.lastActivatedAt && (!max || r.lastActivatedAt > max) ? r.lastActivatedAt : max), null);
    const newestFirst = list.filter((r) => r.status === "running" && !r.isActive).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const candidate = newestFirst.find((r) => !lastActivation || r.createdAt > lastActivation);
    const fallback = lastActivation ? newestFirst.find((r) => r.createdAt <= lastActivation) : undefined;
    for (const r of list) {
      if (r.status === "terminated") continue;
      fates.set(r.id, fateOf(r, { candidate, fallback, lastActivation }, settings, now));
    }
  }
  return fates;
}

function fateOf(
  r: PlanRow,
  ctx: { candidate?: PlanRow; fallback?: PlanRow; lastActivation: Date | null },
  settings: PlanSettings,
  now: Date,
): Fate {
  const provisioning = ["new", "waiting", "configuring"].includes(r.status);
  // A closed pull request's sandbox goes whole, its active appserver too (a pull request's instance
  // may have none active, DESIGN §9); a pin still keeps one, and provisioning is waited for.
  if (r.sandboxRemoveOn && r.sandboxRemoveOn <= now && !r.isPinned && !provisioning) {
    return { keep: false, reason: `sandbox of a closed pull request, due ${r.sandboxRemoveOn.toISOString().slice(0, 10)}` };
  }
  if (r.isActive) return { keep: true, reason: "active" };
  if (r.isPinned) return { keep: true, reason: "pinned" };
  if (provisioning) return { keep: true, reason: "provisioning" };
  if (r.status === "failed" || r.status === "error") {
    const due = addDays(r.createdAt, settings.failedDays);
    return due <= now ? { keep: false, reason: `${r.status} more than ${settings.failedDays} days ago` } : { keep: true, reason: "too young", dueOn: due };
  }
  if (r.id === ctx.candidate?.id) return { keep: true, reason: "candidate" };
  if (r.id === ctx.fallback?.id && ctx.lastActivation) {
    // The previous release is kept for a rollback until the retention period after the switch.
    const due = addDays(ctx.lastActivation, settings.inactiveDays);
    if (due > now) return { keep: true, reason: "fallback", dueOn: due };
  }
  const due = addDays(r.createdAt, settings.inactiveDays);
  return due <= now ? { keep: false, reason: `inactive and older than ${settings.inactiveDays} days` } : { keep: true, reason: "too young", dueOn: due };
}
