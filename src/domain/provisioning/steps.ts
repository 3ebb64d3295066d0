// The provisioning steps of an appserver, in order, and their records (AppServerStep). A step's
// name is a stored contract, like a job name: never rename one (an appserver provisioning during a
// deploy resumes by it). Times come from deps.now.
// The current step is the recorded row with the highest position, or the step after it once that
// row has ended; steps before it count as done (rows made by the migration from the old cursor have
// no earlier rows). A step's end is written in the same transaction as the transition it commits
// (endStep on a tx, or lifecycle's `completesStep`), so a resumed job never runs a committed step
// again and never skips one that did not commit.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import type { AppServerStepOutcome } from "../../generated/prisma/enums.ts";

export const STEPS = [
  { name: "prepare-data", label: "Prepare the instance's databases and storage" },
  { name: "create-vm", label: "Create the VM" },
  { name: "wait-vm", label: "Wait for the VM to answer on SSH and cloud-init to finish" },
  { name: "upload-vars", label: "Upload the playbook variables" },
  { name: "clone", label: "Clone the configuration repository (or upload the playbook shipped with Ocim)" },
  { name: "start-playbook", label: "Start the playbook (bootstrap command, then ansible-playbook)" },
  { name: "tail", label: "Run the playbook (its log, live)" },
  { name: "finish", label: "Read the playbook's exit code" },
  { name: "wait-heartbeat", label: "Wait for /heartbeat to answer 200" },
] as const;

export type StepName = (typeof STEPS)[number]["name"];

type Db = Pick<Prisma.TransactionClient, "appServerStep">;

export function positionOf(name: StepName): number {
  return STEPS.findIndex((s) => s.name === name) + 1;
}

/** The step a job should run now, or null when every step has ended. */
export async function currentStep(deps: { db: Db }, appServerId: number): Promise<{ name: StepName; started: boolean } | null> {
  const last = await deps.db.appServerStep.findFirst({ where: { appServerId }, orderBy: { position: "desc" } });
  if (!last) return { name: STEPS[0].name, started: false };
  if (!last.endedAt) return { name: last.name as StepName, started: true };
  const next = STEPS[last.position];
  return next ? { name: next.name, started: false } : null;
}

/** Records that a step started (once: a re-run keeps the first start, so "so far" counts retries); false when it had. */
export async function startStep(deps: { db: Db; now: () => Date }, appServerId: number, name: StepName): Promise<boolean> {
  const made = await deps.db.appServerStep.createMany({
    data: [{ appServerId, name, position: positionOf(name), startedAt: deps.now() }],
    skipDuplicates: true,
  });
  return made.count > 0;
}

/** Ends a step; in `tx` when the step commits something else that must go with it. */
export async function endStep(tx: Db, deps: { now: () => Date }, appServerId: number, name: StepName, outcome: AppServerStepOutcome = "done"): Promise<void> {
  await tx.appServerStep.updateMany({ where: { appServerId, name, endedAt: null }, data: { endedAt: deps.now(), outcome } });
}

/**
 * Ends whichever step is open (provisioning stopped: failed, error, cancelled). A cancel with none
 * open (a launch still queued, or between two steps) records the step it kept from running as
 * cancelled, started and ended now: the cancel is on record where it stopped provisioning, so it is
 * never read as a failure (the failing filters, the appserver page).
 */
export async function endOpenStep(tx: Db, deps: { now: () => Date }, appServerId: number, outcome: AppServerStepOutcome): Promise<void> {
  const ended = await tx.appServerStep.updateMany({ where: { appServerId, endedAt: null }, data: { endedAt: deps.now(), outcome } });
  if (ended.count > 0 || outcome !== "cancelled") return;
  const next = await currentStep({ db: tx }, appServerId);
  if (!next) return;
  await tx.appServerStep.createMany({
    data: [{ appServerId, name: next.name, position: positionOf(next.name), startedAt: deps.now(), endedAt: deps.now(), outcome }],
    skipDuplicates: true,
  });
}

export interface StepView {
  position: number;
  name: StepName;
  label: string;
  state: "done" | "failed" | "cancelled" | "current" | "pending";
  /** Done: its duration; current: the time so far (from `now`); null when not recorded. */
  ms: number | null;
}

/** Every step with its state and duration, for the appserver page. */
export function describeSteps(rows: { name: string; position: number; startedAt: Date; endedAt: Date | null; outcome: AppServerStepOutcome | null }[], now: Date): StepView[] {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const lastPosition = Math.max(0, ...rows.map((r) => r.position));
  return STEPS.map((s, i) => {
    const row = byName.get(s.name);
    const position = i + 1;
    if (!row) return { position, name: s.name, label: s.label, state: position < lastPosition ? "done" : "pending", ms: null };
    if (!row.endedAt) return { position, name: s.name, label: s.label, state: "current", ms: now.getTime() - row.startedAt.getTime() };
    return { position, name: s.name, label: s.label, state: row.outcome ?? "done", ms: row.endedAt.getTime() - row.startedAt.getTime() };
  });
}

/** "Step N of M: <label>" for the step in progress (or the next one), null when none is. */
export function stepHeadline(views: StepView[]): string | null {
  const at = views.find((v) => v.state === "current") ?? views.find((v) => v.state === "pending");
  return at ? `Step ${at.position} of ${STEPS.length}: ${at.label}` : null;
}

/** Where provisioning stopped, for a failed, errored or cancelled appserver. */
export function stoppedAt(views: StepView[]): string | null {
  const at = views.find((v) => v.state === "failed" || v.state === "cancelled");
  return at ? `step ${at.position} of ${STEPS.length}: ${at.label}` : null;
}

/**
 * Counts a step in ocim_provisioning_step_duration_seconds once its end is committed (by the step
 * itself or by the transition that stopped provisioning). Read back from its row, so a step resumed
 * by another worker counts from its first start, and a step still open (it threw; the job's last
 * failure ends it later) is not counted yet. Cancelled steps are not provisioning durations.
 */
export async function countEndedStep(deps: Pick<Deps, "db" | "metrics">, appServerId: number, name: StepName, recipe: string): Promise<void> {
  const row = await deps.db.appServerStep.findFirst({ where: { appServerId, name }, select: { startedAt: true, endedAt: true, outcome: true } });
  if (!row?.endedAt || row.outcome === "cancelled") return;
  const seconds = (row.endedAt.getTime() - row.startedAt.getTime()) / 1000;
  deps.metrics.provisioningStepSeconds.observe({ step: name, recipe, outcome: row.outcome ?? "done" }, Math.max(0, seconds));
}
