// An object's history: its audit events (who, when, what) with the field changes as before/after.
import type { Deps } from "../../deps.js";
import type { Db } from "../../db.js";
import { lineDiff, type DiffLine } from "../../domain/audit/line-diff.js";
import { actionLabel } from "../../domain/audit/action-labels.js";
import type { AdminModel } from "./types.js";

export interface ChangeView {
  field: string;
  before: string;
  after: string;
  /** Multi-line or long values are shown as blocks. */
  long: boolean;
  /** Multi-line values: the lines removed and added (between the unchanged ones). */
  lines: DiffLine[] | null;
}

/** Fields of audit diffs that hold another object's id: the pages show its name instead. */
const NAMED_IDS: Record<string, (db: Db, ids: number[]) => Promise<{ id: number; name: string }[]>> = {
  loadBalancerId: (db, ids) => db.loadBalancer.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  mysqlServiceId: (db, ids) => db.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  mongodbServiceId: (db, ids) => db.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  storageServiceId: (db, ids) => db.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  // A notification channel's instance, a watched repository's template, a sandbox's repository.
  instanceId: (db, ids) => db.instance.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  templateInstanceId: (db, ids) => db.instance.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } }),
  watchedRepositoryId: async (db, ids) =>
    (await db.watchedRepository.findMany({ where: { id: { in: ids } }, select: { id: true, owner: true, name: true } })).map((r) => ({ id: r.id, name: `${r.owner}/${r.name}` })),
};

/** Per id field, the names of the objects the diffs name by id (one query per field). */
export type IdNames = Map<string, Map<number, string>>;

export async function idNamesIn(db: Db, diffs: unknown[]): Promise<IdNames> {
  const wanted = new Map<string, Set<number>>();
  for (const diff of diffs) {
    if (typeof diff !== "object" || diff === null) continue;
    for (const [field, pair] of Object.entries(diff as Record<string, unknown>)) {
      if (!NAMED_IDS[field]) continue;
      for (const v of [pair].flat()) if (typeof v === "number") wanted.set(field, (wanted.get(field) ?? new Set()).add(v));
    }
  }
  const names: IdNames = new Map();
  await Promise.all([...wanted].map(async ([field, ids]) => {
    const rows = await NAMED_IDS[field]!(db, [...ids]);
    names.set(field, new Map(rows.map((r) => [r.id, r.name])));
  }));
  return names;
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

/** How a model's audit diffs are shown: which key is called what, in which order, and which never. */
export interface DiffFields {
  /** A key's label: its form field's, else the model's historyLabels'. */
  labels: Record<string, string>;
  /** The form's fields in the form's order. */
  formOrder: readonly string[];
  hidden: ReadonlySet<string>;
}

// Models are made once, at start-up: each one's fields are worked out once, not for every row of
// the audit list (100 a page) nor every event of a history.
const fieldsOf = new WeakMap<AdminModel, DiffFields>();
const NO_MODEL: DiffFields = { labels: {}, formOrder: [], hidden: new Set() };

export function diffFields(model: AdminModel | undefined): DiffFields {
  if (!model) return NO_MODEL;
  let known = fieldsOf.get(model);
  if (!known) {
    const fields = model.form?.sections.flatMap((s) => s.fields) ?? [];
    known = {
      labels: { ...model.historyLabels, ...Object.fromEntries(fields.map((f) => [f.name, f.label])) },
      formOrder: fields.map((f) => f.name),
      hidden: new Set(model.historyHidden),
    };
    fieldsOf.set(model, known);
  }
  return known;
}

/** A key with no label, in words ("pullRequestNumber" → "Pull request number"): never the raw key. */
function readableKey(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// An event naming another object records its id beside its name (appServer, appServerId), which
// stays true after a rename; on the page the id row only repeats the name row.
function repeatsName(key: string, keys: ReadonlySet<string>): boolean {
  return key.endsWith("Id") && keys.has(key.slice(0, -2));
}

function showNamed(value: unknown, names: Map<number, string> | undefined): string {
  if (!names || typeof value !== "number") return show(value);
  return names.get(value) ?? `#${value} (deleted)`;
}

/**
 * The diff stored on an AuditEvent ({ field: [before, after] }) as rows to show: the form's fields in
 * the form's order, then the other keys by label. Not the stored order: jsonb keeps keys by length.
 */
export function changesOf(diff: unknown, fields: DiffFields, names: IdNames = new Map()): ChangeView[] {
  if (typeof diff !== "object" || diff === null || Array.isArray(diff)) return [];
  const record = diff as Record<string, unknown>;
  return shownKeys(Object.keys(record), fields).map(({ key, label }) => changeRow(label, record[key], names.get(key)));
}

/** The keys of a diff that a page shows, with their labels, in the order changesOf shows them. */
export function shownKeys(keys: readonly string[], fields: DiffFields): { key: string; label: string }[] {
  const present = new Set(keys);
  const rank = (key: string) => { const i = fields.formOrder.indexOf(key); return i < 0 ? fields.formOrder.length : i; };
  return keys
    .filter((key) => !fields.hidden.has(key) && !repeatsName(key, present))
    .map((key) => ({ key, label: fields.labels[key] ?? readableKey(key) }))
    .sort((x, y) => rank(x.key) - rank(y.key) || x.label.localeCompare(y.label));
}

function changeRow(label: string, pair: unknown, names: Map<number, string> | undefined): ChangeView {
  const [before, after] = Array.isArray(pair) ? pair : [undefined, pair];
  const b = showNamed(before, names);
  const a = showNamed(after, names);
  const multiLine = [a, b].some((t) => t.includes("\n"));
  // A value that was or became empty shows as it is: a diff of "—" against the text says less.
  const lines = multiLine && before !== null && before !== undefined && after !== null && after !== undefined ? lineDiff(b, a) : null;
  return { field: label, before: b, after: a, long: multiLine || [a, b].some((t) => t.length > 80), lines };
}

export async function loadHistory(deps: Deps, model: AdminModel, id: number): Promise<EventView[]> {
  const events = await deps.db.auditEvent.findMany({
    where: { subjectType: model.subjectType, subjectId: String(id) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: HISTORY_LIMIT,
    select: { id: true, createdAt: true, actorLogin: true, action: true, subjectType: true, subjectName: true, diff: true },
  });
  const fields = diffFields(model);
  const names = await idNamesIn(deps.db, events.map((e) => e.diff));
  return events.map((e) => ({
    id: e.id,
    createdAt: e.createdAt,
    actor: e.actorLogin || "(system)",
    action: actionLabel(e.action),
    subject: e.subjectName,
    changes: changesOf(e.diff, fields, names),
  }));
}
