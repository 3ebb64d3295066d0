// Audit events in the admin: read-only, filterable by subject type and action.
import { Prisma } from "../../../generated/prisma/client.ts";
import type { Deps } from "../../../deps.js";
import { actionLabel, actionsLabelled } from "../../../domain/audit/action-labels.js";
import { defineModel, type Cell, type Option } from "../types.js";

const listSelect = { id: true, createdAt: true, actorLogin: true, action: true, subjectType: true, subjectId: true, subjectName: true, diff: true } as const;
type Row = Prisma.AuditEventGetPayload<{ select: typeof listSelect }>;

/** Where an event's subject lives in the admin, for a link (absent for deleted or unknown types). */
export const SUBJECT_PATHS: Record<string, string> = {
  Instance: "instances", LoadBalancer: "load-balancers", ProviderAccount: "provider-accounts", User: "users", AppServer: "app-servers",
  NotificationChannel: "notification-channels",
};

function subjectCell(r: Pick<Row, "subjectType" | "subjectId" | "subjectName" | "action">): Cell {
  const text = `${r.subjectType} ${r.subjectName || `#${r.subjectId}`}`;
  const path = SUBJECT_PATHS[r.subjectType];
  return path && !r.action.endsWith(".deleted") && /^\d+$/.test(r.subjectId) ? { text, href: `/admin/${path}/${r.subjectId}` } : text;
}

function changedFields(diff: unknown): string {
  return diff && typeof diff === "object" && !Array.isArray(diff) ? Object.keys(diff).join(", ") : "";
}

// Distinct values for the filters. A scan, but over an indexed column of a table an admin filters rarely.
async function distinct(deps: Deps, field: "action" | "subjectType"): Promise<Option[]> {
  const column = Prisma.raw(`"${field}"`);
  const rows = await deps.db.$queryRaw<{ value: string }[]>`SELECT DISTINCT ${column} AS value FROM "AuditEvent" ORDER BY 1 LIMIT 200`;
  return rows.map((r) => ({ value: r.value, label: field === "action" ? actionLabel(r.value) : r.value }));
}

export const auditEventAdmin = defineModel<Row>({
  slug: "audit-events",
  name: "Audit event",
  plural: "Audit events",
  description: "Who changed what, and when (read-only).",
  titleOf: (row) => `${actionLabel(row.action)} by ${row.actorLogin || "(system)"}`,
  list: {
    columns: [
      { label: "When", sort: "createdAt", cell: (r) => ({ text: r.createdAt.toISOString().replace("T", " ").slice(0, 19) + " UTC", href: `/admin/audit-events/${r.id}` }) },
      { label: "Who", sort: "actorLogin", cell: (r) => r.actorLogin || "(system)" },
      { label: "Action", sort: "action", cell: (r) => actionLabel(r.action) },
      { label: "Subject", cell: subjectCell },
      { label: "Changed", cell: (r) => changedFields(r.diff) || null },
    ],
    // The action by its code or by the words the list shows ("settings changed").
    search: {
      fields: ["actorLogin", "subjectName", "action"], hint: "who, subject or action",
      extra: (q) => { const codes = actionsLabelled(q); return codes.length ? [{ action: { in: codes } }] : []; },
    },
    filters: [
      { key: "type", label: "Subject type", options: (deps) => distinct(deps, "subjectType"), where: (v) => ({ subjectType: v }) },
      { key: "action", label: "Action", options: (deps) => distinct(deps, "action"), where: (v) => ({ action: v }) },
    ],
    defaultOrder: "-createdAt",
    fetch: (db, args) => db.auditEvent.findMany({ ...(args as Prisma.AuditEventFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.auditEvent.count({ where: where as Prisma.AuditEventWhereInput }),
  },
  async detail(deps, id) {
    const e = await deps.db.auditEvent.findUnique({ where: { id }, select: listSelect });
    if (!e) return null;
    return {
      title: `${actionLabel(e.action)} by ${e.actorLogin || "(system)"}`,
      items: [
        { label: "When", value: e.createdAt },
        { label: "Who", value: e.actorLogin || "(system)" },
        { label: "Action", value: actionLabel(e.action) },
        { label: "Action code", value: { text: e.action, mono: true } },
        { label: "Subject", value: subjectCell(e) },
      ],
      diff: { subjectType: e.subjectType, changes: e.diff },
    };
  },
});
