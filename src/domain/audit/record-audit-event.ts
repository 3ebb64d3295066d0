// Every console and admin mutation writes one AuditEvent (DESIGN §3), inside its transaction.
import type { Prisma } from "../../db.js";
import type { AuditAction } from "./action-labels.js";

export interface Actor {
  id: number | null;
  login: string;
}

export interface AuditInput {
  actor: Actor;
  /** One of action-labels.ts's codes: every action has its words on the pages. */
  action: AuditAction;
  subjectType: string;
  subjectId: string | number;
  subjectName?: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

type Tx = Pick<Prisma.TransactionClient, "auditEvent">;

/** The fields that changed, as { field: [before, after] }; secrets are masked by the caller. */
export function diffRecords(before: Record<string, unknown> | null | undefined, after: Record<string, unknown> | null | undefined) {
  const diff: Record<string, [unknown, unknown]> = {};
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const key of keys) {
    const a = normalize(before?.[key]);
    const b = normalize(after?.[key]);
    if (JSON.stringify(a) !== JSON.stringify(b)) diff[key] = [a, b];
  }
  return diff;
}

function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "bigint") return value.toString();
  return value ?? null;
}

export async function recordAuditEvent(tx: Tx, input: AuditInput): Promise<void> {
  await tx.auditEvent.create({
    data: {
      actorId: input.actor.id,
      actorLogin: input.actor.login,
      action: input.action,
      subjectType: input.subjectType,
      subjectId: String(input.subjectId),
      subjectName: input.subjectName ?? "",
      diff: diffRecords(input.before, input.after) as Prisma.InputJsonValue,
    },
  });
}
