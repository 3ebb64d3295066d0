// An object's history: its audit events (who, when, what) with the field changes as before/after.
import type { Deps } from "../../deps.js";
import type { AdminModel } from "./types.js";

export interface ChangeView {
  field: string;
  before: string;
  after: string;
  /** Multi-line or long values are shown as blocks. */
  long: boolean;
}

export interface EventView {
  id: number;
  createdAt: Date;
  actor: string;
  action: string;
  subject: string;
  changes: ChangeView[];
}

const HISTORY_LIMIT = 200;

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (value === "") return "(empty)";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.length ? value.join("\n") : "(none)";
  return JSON.stringify(value, null, 2);
}

export function fieldLabels(model: AdminModel | undefined): Record<string, string> {
  const fields = model?.form?.sections.flatMap((s) => s.fields) ?? [];
  return Object.fromEntries(fields.map((f) => [f.name, f.label]));
}

/** The diff stored on an AuditEvent ({ field: [before, after] }) as rows to show. */
export function changesOf(diff: unknown, labels: Record<string, string>): ChangeView[] {
  if (typeof diff !== "object" || diff === null || Array.isArray(diff)) return [];
  return Object.entries(diff as Record<string, unknown>).map(([field, pair]) => {
    const [before, after] = Array.isArray(pair) ? pair : [undefined, pair];
    const b = show(before);
    const a = show(after);
    return { field: labels[field] ?? field, before: b, after: a, long: [a, b].some((t) => t.includes("\n") || t.length > 80) };
  });
}

export async function loadHistory(deps: Deps, model: AdminModel, id: number): Promise<EventView[]> {
  const events = await deps.db.auditEvent.findMany({
    where: { subjectType: model.subjectType, subjectId: String(id) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: HISTORY_LIMIT,
    select: { id: true, createdAt: true, actorLogin: true, action: true, subjectType: true, subjectName: true, diff: true },
  });
  const labels = fieldLabels(model);
  return events.map((e) => ({
    id: e.id,
    createdAt: e.createdAt,
    actor: e.actorLogin || "(system)",
    action: e.action,
    subject: e.subjectName,
    changes: changesOf(e.diff, labels),
  }));
}
