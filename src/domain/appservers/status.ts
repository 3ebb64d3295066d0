// The appserver state machine (DESIGN §4). Every status change goes through one of these named
// transitions, each a compare-and-set UPDATE … WHERE id = ? AND status IN (<from>), so two workers
// can never both move the same appserver. Nothing else may write AppServer.status (STYLE 4).
import type { Db, Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import type { AppServerStatus } from "../../generated/prisma/enums.ts";

export const TRANSITIONS = {
  requestVm: { from: ["new"], to: "waiting" },
  startConfiguring: { from: ["waiting"], to: "configuring" },
  markRunning: { from: ["configuring"], to: "running" },
  markFailed: { from: ["configuring"], to: "failed" },
  markError: { from: ["new", "waiting"], to: "error" },
  terminate: { from: ["running", "failed", "error"], to: "terminated" },
} as const satisfies Record<string, { from: readonly AppServerStatus[]; to: AppServerStatus }>;

export type TransitionName = keyof typeof TRANSITIONS;

export const STATUS_LABELS: Record<AppServerStatus, string> = {
  new: "New",
  waiting: "Waiting for VM",
  configuring: "Configuring",
  running: "Running",
  failed: "Failed",
  error: "Error",
  terminated: "Terminated",
};

export interface TransitionResult {
  id: number;
  instanceId: number;
  from: AppServerStatus;
  to: AppServerStatus;
}

type Client = Pick<Db, "appServer"> | Pick<Prisma.TransactionClient, "appServer">;

/**
 * Moves an appserver along one named transition. `extra` may set other status fields in the same
 * update (failure summary, terminatedAt…); `where` adds guards (e.g. isActive: false for terminate).
 * Throws AppError("wrong_state") naming the current status when the move is not allowed.
 */
export async function transition(
  db: Client,
  id: number,
  name: TransitionName,
  extra: Omit<Prisma.AppServerUpdateManyMutationInput, "status"> = {},
  where: Omit<Prisma.AppServerWhereInput, "id" | "status"> = {},
): Promise<TransitionResult> {
  const { from, to } = TRANSITIONS[name];
  const current = await db.appServer.findUnique({ where: { id }, select: { status: true, instanceId: true, name: true } });
  if (!current) throw new AppError("not_found", "AppServer not found.");
  const moved = await db.appServer.updateMany({
    where: { ...where, id, status: { in: [...from] } },
    data: { ...extra, status: to, statusChangedAt: new Date() },
  });
  if (moved.count !== 1) {
    const now = await db.appServer.findUnique({ where: { id }, select: { status: true } });
    throw new AppError("wrong_state", `${current.name} is ${STATUS_LABELS[now?.status ?? current.status].toLowerCase()}; it cannot go to "${STATUS_LABELS[to].toLowerCase()}" from there.`, {
      transition: name,
      status: now?.status ?? current.status,
    });
  }
  return { id, instanceId: current.instanceId, from: current.status, to };
}
