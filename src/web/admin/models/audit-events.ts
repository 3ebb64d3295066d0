// Audit events in the admin: read-only, filterable by subject type and action.
import { Prisma } from "../../../generated/prisma/client.ts";
import { jsonTimestamp, readPage, type Db } from "../../../db.js";
import type { Deps } from "../../../deps.js";
import { actionLabel, actionsLabelled } from "../../../domain/audit/action-labels.js";
import { defineModel, type AdminModel, type Cell, type Option, type PageArgs } from "../types.js";
import { diffFields, shownKeys } from "../history.js";
import { containsAny, orderedPage, whereAll } from "./common.js";

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

/** A row as the list shows it: the diff's field names, not the diff (its values may be long). */
type ListRow = Omit<Row, "diff"> & { changed: string };

// The columns the list sorts by (the engine only passes these), as SQL.
const SORT_SQL: Record<string, Prisma.Sql> = {
  createdAt: Prisma.raw('e."createdAt"'), actorLogin: Prisma.raw('e."actorLogin"'), action: Prisma.raw("e.action"),
};

/**
 * The generic way to a page, what rawPage below must agree with (a test compares the two).
 */
async function fetchPage(db: Db, args: object): Promise<ListRow[]> {
  const rows = await db.auditEvent.findMany({ ...(args as Prisma.AuditEventFindManyArgs), select: listSelect });
  return rows.map(({ diff, ...row }) => ({ ...row, changed: changedFields(diff) }));
}

/**
 * The change list's page in one raw statement that names each diff's fields (jsonb_object_keys, in
 * the order JSON.parse of the jsonb gives) instead of reading every diff: Prisma's findMany
 * compiled on the event loop (10 % of this page's profile under load) and parsed 100 diffs. One web
 * process, wrk -c20, 4 rounds alternately: findMany 345–437 req/s (web CPU 2.8–3.6 ms a view,
 * PostgreSQL 0.35–0.38), this 431–522 (2.3–2.7 ms, 0.45–0.53), while the list's p95 was 54–65 ms in
 * two of four compares (goal: under 50, bench/README.md). The count stays the engine's (shared).
 *
 * Read as JSON rows, and without a filter or a search on its first page prepared (readPage), so
 * PostgreSQL plans it once per connection. Two web processes, 20 clients, eight 4-s rounds alternately: 931 → 1,166 req/s
 * (1.25×), web CPU 1.47 → 1.08 ms a view (bench/README.md, 2026-12-04 21:25).
 */
async function rawPage(db: Db, args: PageArgs): Promise<{ rows: ListRow[]; total: null }> {
  const conditions: Prisma.Sql[] = [];
  if (args.filters.type) conditions.push(Prisma.sql`e."subjectType" = ${args.filters.type}`);
  if (args.filters.action) conditions.push(Prisma.sql`e.action = ${args.filters.action}`);
  if (args.q) {
    // The search's `extra` too: the actions whose label contains it.
    const codes = actionsLabelled(args.q);
    const columns = [Prisma.raw('e."actorLogin"'), Prisma.raw('e."subjectName"'), Prisma.raw("e.action")];
    conditions.push(containsAny(columns, args.q, codes.length ? [Prisma.sql`e.action IN (${Prisma.join(codes)})`] : []));
  }
  const rows = await readPage<Omit<ListRow, "createdAt"> & { createdAt: string }>(db, Prisma.sql`
    SELECT e.id, e."createdAt", e."actorLogin", e.action, e."subjectType", e."subjectId", e."subjectName",
           CASE WHEN jsonb_typeof(e.diff) = 'object' THEN array_to_string(ARRAY(SELECT jsonb_object_keys(e.diff)), ', ') ELSE '' END AS changed
    FROM "AuditEvent" e ${whereAll(conditions)}
    ${orderedPage(SORT_SQL, Prisma.raw("e.id"), args)}`, { firstPage: args.skip === 0 });
  return {
    rows: rows.map((r) => ({
      id: r.id, createdAt: jsonTimestamp(r.createdAt), actorLogin: r.actorLogin, action: r.action,
      subjectType: r.subjectType, subjectId: r.subjectId, subjectName: r.subjectName, changed: r.changed,
    })),
    total: null,
  };
}

// Distinct values for the filters. A scan, but over an indexed column of a table an admin filters rarely.
async function distinct(deps: Deps, field: "action" | "subjectType"): Promise<Option[]> {
  const column = Prisma.raw(`"${field}"`);
  const rows = await deps.db.$queryRaw<{ value: string }[]>`SELECT DISTINCT ${column} AS value FROM "AuditEvent" ORDER BY 1 LIMIT 200`;
  return rows.map((r) => ({ value: r.value, label: field === "action" ? actionLabel(r.value) : r.value }));
}

/**
 * The audit events' section. `modelOf` finds the admin model of a subject type (the registry's), so
 * that the list's "Changed" column names fields as their History page does ("LMS domain, Recipe"),
 * not by their stored keys in jsonb's order. Given, not imported: the registry imports this module.
 */
export const auditEventAdminWith = (modelOf: (subjectType: string) => AdminModel | undefined) => defineModel<ListRow>({
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
      { label: "Changed", cell: (r) => shownKeys(r.changed ? r.changed.split(", ") : [], diffFields(modelOf(r.subjectType))).map((k) => k.label).join(", ") || null },
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
    fetch: fetchPage,
    count: (db, where) => db.auditEvent.count({ where: where as Prisma.AuditEventWhereInput }),
    page: rawPage,
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
