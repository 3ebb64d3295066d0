// The appserver's lifecycle (DESIGN §4, docs/provisioning.md): every change of an appserver's
// status, activity or provisioning progress is one of these named transitions (STYLE 4). Each
// runs inside the caller's transaction and does three things there:
//   1. a compare-and-set UPDATE … WHERE id = ? AND status = <the status it was read in>, so two
//      workers (or a worker and a person) can never both move the same appserver;
//   2. the audit row (status and activity changes; not the progress notes within one status);
//   3. the follow-up work as outbox rows (src/domain/appservers/outbox.ts): the live status event
//      always, the job the transition calls for (provisioning, balancer apply, VM delete), and the
//      notifications of the channels that subscribe to its event (src/domain/notifications/).
// The worker's relay sends the rows once the transaction commits, so a rolled-back change sends
// nothing and a committed one cannot forget its job or its broadcast.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import type { AppServerStatus } from "../../generated/prisma/enums.ts";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import type { AuditAction } from "../audit/action-labels.js";
import { OUTBOX, writeOutbox, type OutboxRow } from "./outbox.js";
import { endOpenStep, endStep, type StepName } from "../provisioning/steps.js";
import type { AppServerStepOutcome } from "../../generated/prisma/enums.ts";
import type { NotificationEvent } from "../notifications/events.js";
import { recordNotification } from "../notifications/record-notification.js";
import { transitionNotice } from "../notifications/transition-notice.js";

type FollowUp = (ctx: { appServerId: number; loadBalancerId: number | null; sandbox: boolean }) => OutboxRow[];

interface Transition {
  /** Status it may start from → status it ends in. */
  moves: Partial<Record<AppServerStatus, AppServerStatus>>;
  /** The audit action, or null for progress within one status (kept in the log instead). */
  audit: AuditAction | null;
  followUps?: FollowUp;
  /** Provisioning stops here: the open step (docs/provisioning.md, "Steps") ends with this outcome. */
  endsSteps?: AppServerStepOutcome;
  /** The notification event it records (docs/notifications.md). */
  notify?: NotificationEvent;
}

const same = (...states: AppServerStatus[]) => Object.fromEntries(states.map((s) => [s, s])) as Partial<Record<AppServerStatus, AppServerStatus>>;
const provision: FollowUp = ({ appServerId }) => [{ kind: OUTBOX.provisionAppServer, payload: { appServerId } }];
const applyBalancer: FollowUp = ({ loadBalancerId }) => (loadBalancerId ? [{ kind: OUTBOX.applyLoadBalancer, payload: { loadBalancerId } }] : []);
// A pull-request sandbox serves its newest working appserver, as the original Ocim's sandboxes did
// (mark_active_on_success): reviewers open its domain, not a test link. The activation job runs the
// health check and deactivates the others; a failed launch leaves the active one as it was.
const activateSandbox: FollowUp = ({ appServerId, sandbox }) =>
  sandbox ? [{ kind: OUTBOX.activateAppServer, payload: { appServerId, actorId: null, deactivateOthers: true } }] : [];

export const TRANSITIONS = {
  /** A new appserver row was created in this transaction: its provisioning is queued. The launch
   *  command audits it on the instance ("appserver.launched"), where the person looks for it. */
  launch: { moves: same("new"), audit: null, followUps: provision },
  vmRequested: { moves: { new: "waiting" }, audit: "appserver.vm_requested" },
  vmCreated: { moves: same("waiting"), audit: null },
  vmProgress: { moves: same("waiting"), audit: null },
  vmReady: { moves: { waiting: "configuring" }, audit: "appserver.vm_ready" },
  playbookStarted: { moves: same("configuring"), audit: null },
  succeeded: { moves: { configuring: "running" }, audit: "appserver.succeeded", endsSteps: "done", notify: "launch.succeeded", followUps: activateSandbox },
  failed: { moves: { configuring: "failed" }, audit: "appserver.failed", endsSteps: "failed", notify: "launch.failed" },
  /** The VM never came up (or provisioning stopped before it did). */
  error: { moves: { new: "error", waiting: "error" }, audit: "appserver.error", endsSteps: "failed", notify: "launch.failed" },
  /** Progress after the status is final: the VM of an errored appserver was deleted. */
  vmGone: { moves: same("error", "failed", "terminated"), audit: null },
  /** The job tailing the playbook stops it when it sees the cancel; the follow-up stops it also when
   *  no job is watching (a worker down, a job waiting for its retry). A no-op before the playbook started. */
  cancelled: {
    moves: { new: "error", waiting: "error", configuring: "failed" },
    audit: "appserver.cancelled",
    endsSteps: "cancelled",
    followUps: ({ appServerId }) => [{ kind: OUTBOX.stopPlaybook, payload: { appServerId } }],
  },
  activated: { moves: same("running"), audit: "appserver.activated", followUps: applyBalancer, notify: "appserver.activated" },
  deactivated: { moves: same("running"), audit: "appserver.deactivated", followUps: applyBalancer },
  terminated: {
    moves: { running: "terminated", failed: "terminated", error: "terminated" },
    audit: "appserver.terminated",
    notify: "appserver.terminated",
    followUps: ({ appServerId }) => [{ kind: OUTBOX.deleteAppServerVm, payload: { appServerId } }],
  },
} as const satisfies Record<string, Transition>;

export type TransitionName = keyof typeof TRANSITIONS;

export const FINAL_STATUSES: readonly AppServerStatus[] = ["running", "failed", "error", "terminated"];
export const PROVISIONING_STATUSES: readonly AppServerStatus[] = ["new", "waiting", "configuring"];

export const STATUS_LABELS: Record<AppServerStatus, string> = {
  new: "New",
  waiting: "Waiting for VM",
  configuring: "Configuring",
  running: "Running",
  failed: "Failed",
  error: "Error",
  terminated: "Terminated",
};

export const OCIM: Actor = { id: null, login: "ocim" };

type Tx = Prisma.TransactionClient;

export interface TransitionInput {
  appServerId: number;
  actor?: Actor;
  /** Other fields written by the same compare-and-set (failure summary, VM id, isActive…). */
  set?: Omit<Prisma.AppServerUpdateManyMutationInput, "status" | "statusChangedAt">;
  /** The provisioning step this transition commits: its end is written in the same transaction. */
  completesStep?: StepName;
  /** Extra guards (e.g. isActive: false for terminate). */
  where?: Omit<Prisma.AppServerWhereInput, "id" | "status">;
  /** Audit details beyond the status change (the action name may be refined, e.g. "…_exclusively"). */
  audit?: { action?: AuditAction; subjectName?: string; before?: Record<string, unknown>; after?: Record<string, unknown> };
}

export interface TransitionResult {
  id: number;
  instanceId: number;
  name: string;
  from: AppServerStatus;
  to: AppServerStatus;
}

/** Whether `name` may start from `status` (for pages and rule checks before a transaction). */
export function canMove(name: TransitionName, status: AppServerStatus): boolean {
  return Object.hasOwn(TRANSITIONS[name].moves, status);
}

/**
 * Moves an appserver along one named transition inside `tx`. Throws AppError("not_found") for an
 * unknown appserver and AppError("wrong_state") naming its current status when the move is not
 * allowed from there (or another writer moved it first).
 */
export async function moveAppServer(tx: Tx, deps: Pick<Deps, "now">, name: TransitionName, input: TransitionInput): Promise<TransitionResult> {
  const spec: Transition = TRANSITIONS[name];
  const current = await tx.appServer.findUnique({
    where: { id: input.appServerId },
    select: { status: true, instanceId: true, name: true, number: true, instance: { select: { name: true, loadBalancerId: true, watchedRepositoryId: true } } },
  });
  if (!current) throw new AppError("not_found", "AppServer not found.");
  const to = spec.moves[current.status];
  const refuse = (status: AppServerStatus) =>
    new AppError("wrong_state", `${current.name} is ${STATUS_LABELS[status].toLowerCase()}; it cannot go to "${targetOf(name)}" from there.`, { transition: name, status });
  if (!to) throw refuse(current.status);
  const changesStatus = to !== current.status;
  // One instant for the status change and the step it ends: the page's durations add up.
  const at = deps.now();
  const clock = { now: () => at };
  const moved = await tx.appServer.updateMany({
    where: { ...input.where, id: input.appServerId, status: current.status },
    data: { ...input.set, status: to, ...(changesStatus ? { statusChangedAt: at } : {}) },
  });
  if (moved.count !== 1) {
    const now = await tx.appServer.findUnique({ where: { id: input.appServerId }, select: { status: true } });
    throw refuse(now?.status ?? current.status);
  }
  if (input.completesStep) await endStep(tx, clock, input.appServerId, input.completesStep);
  if (spec.endsSteps) await endOpenStep(tx, clock, input.appServerId, spec.endsSteps);
  const action = input.audit?.action ?? spec.audit;
  if (action) {
    await recordAuditEvent(tx, {
      actor: input.actor ?? OCIM, action, subjectType: "AppServer", subjectId: input.appServerId,
      subjectName: input.audit?.subjectName ?? `${current.instance.name} / ${current.name}`,
      before: input.audit?.before ?? { status: current.status },
      after: input.audit?.after ?? { status: to },
    });
  }
  const ctx = { appServerId: input.appServerId, loadBalancerId: current.instance.loadBalancerId, sandbox: current.instance.watchedRepositoryId !== null };
  const rollouts = spec.endsSteps ? await rolloutsWaitingOn(tx, current.instanceId) : [];
  await writeOutbox(tx, [{ kind: OUTBOX.statusEvent, payload: { appServerId: input.appServerId } }, ...(spec.followUps?.(ctx) ?? []), ...rollouts]);
  if (spec.notify) {
    const summary = input.set?.failureSummary;
    await recordNotification(tx, transitionNotice(spec.notify, {
      appServer: { id: input.appServerId, name: current.name, number: current.number }, instance: { id: current.instanceId, name: current.instance.name },
      actor: (input.actor ?? OCIM).login, failureSummary: typeof summary === "string" ? summary : "", action: action ?? "",
    }));
  }
  return { id: input.appServerId, instanceId: current.instanceId, name: current.name, from: current.status, to };
}

/**
 * A launch ended: the unfinished roll-outs with a launch of this instance in flight move on
 * (src/domain/rollouts/advance-rollout.ts), so the next wave does not wait for the periodic job.
 */
async function rolloutsWaitingOn(tx: Tx, instanceId: number): Promise<OutboxRow[]> {
  const items = await tx.rolloutItem.findMany({
    where: { instanceId, status: { in: ["launching", "activating"] }, rollout: { status: { in: ["running", "paused"] } } },
    select: { rolloutId: true },
  });
  return [...new Set(items.map((i) => i.rolloutId))].map((rolloutId) => ({ kind: OUTBOX.advanceRollout, payload: { rolloutId } }));
}

/**
 * Progress that moves no status and writes no column of the appserver (a provisioning step that
 * starts or ends) still changes its page: the live status event, in the caller's transaction, so
 * open pages render the steps again once it commits.
 */
export async function announceProgress(tx: Tx, appServerId: number): Promise<void> {
  await writeOutbox(tx, [{ kind: OUTBOX.statusEvent, payload: { appServerId } }]);
}

/** The status a transition leads to, in words ("configuring"), or its name for progress steps. */
function targetOf(name: TransitionName): string {
  const targets = [...new Set(Object.values(TRANSITIONS[name].moves))] as AppServerStatus[];
  return targets.length === 1 ? STATUS_LABELS[targets[0]!].toLowerCase() : name;
}

/** One transition in its own transaction: for the provisioning job, which holds none. */
export async function moveAppServerNow(deps: Pick<Deps, "db" | "now">, name: TransitionName, input: TransitionInput): Promise<TransitionResult> {
  return deps.db.$transaction((tx) => moveAppServer(tx, deps, name, input));
}
