// How a model is described to the admin engine (DESIGN §13): what its change list shows, which
// fields its form has, and which domain commands save and delete it. The engine does the rest.
import type { Deps } from "../../deps.js";
import type { Db } from "../../db.js";
import type { Actor } from "../../domain/audit/record-audit-event.js";
import type { InspectedService } from "../../domain/data/inspect-owner-data.js";
import type { DropOutcome } from "../../domain/data/drop-owner-data.js";

/** What a table cell or a read-only value shows. Dates and booleans are formatted by the views. */
export type Cell = string | number | boolean | Date | null | { text: string; href?: string; badge?: string; mono?: boolean; pre?: boolean };

export interface Column<R> {
  label: string;
  /** The column to order by when its header is clicked; absent: not sortable. */
  sort?: string;
  cell(row: R): Cell;
}

export interface Option {
  value: string;
  label: string;
}

export interface Filter {
  /** The query-string key (must not be q, o or p). */
  key: string;
  label: string;
  options(deps: Deps): Option[] | Promise<Option[]>;
  where(value: string): object;
}

export interface ListArgs {
  where: object;
  orderBy: object[];
  skip: number;
  take: number;
}

/** What a change list asks for, already checked: filter values among their options, a sortable field. */
export interface PageArgs {
  filters: Record<string, string>;
  q: string;
  sortField: string;
  direction: "asc" | "desc";
  skip: number;
  take: number;
}

export interface ListSpec<R> {
  columns: Column<R>[];
  /** Fields searched with a case-insensitive "contains" ("instance.name" follows a relation). */
  search?: { fields: string[]; hint: string; extra?(q: string): object[] };
  filters?: Filter[];
  /** A column's sort field, "-" first for descending. */
  defaultOrder: string;
  /**
   * The field a sort key orders by, where it is not the key itself: the instances' name orders by
   * sortName (case and accents aside, as the console's sidebar), while the address keeps o=name.
   */
  orderFields?: Record<string, string>;
  fetch(db: Db, args: ListArgs): Promise<R[]>;
  count(db: Db, where: object): Promise<number>;
  /**
   * Optional, for a busy list: the page in one raw query instead of fetch (Prisma 6 compiles each
   * model query in Wasm on the event loop), with its count when the same scan gives it (a search's;
   * total null otherwise: the engine counts, shared). Must give what fetch and count give for the same
   * filters, search and order; a test compares them.
   */
  page?(db: Db, args: PageArgs): Promise<{ rows: R[]; total: number | null }>;
}

/** checkboxes: one box per option, the checked values submitted as a list (one per line in `values`). */
export type FieldKind = "text" | "textarea" | "number" | "select" | "checkbox" | "checkboxes" | "secret";

export interface FormField {
  name: string;
  label: string;
  kind: FieldKind;
  help?: string;
  /** Shown in an empty field; may depend on the other values (a derived domain). */
  placeholder?: string | ((values: Record<string, string>) => string);
  maxLength?: number;
  rows?: number;
  required?: boolean;
  mono?: boolean;
  /** Half the form's width, beside the next half field (short values that belong together). */
  half?: boolean;
  /** A select's choices that need no database (those that do come from FormSpec.choices). */
  options?(): Option[];
}

export interface FormSection {
  title: string;
  help?: string;
  /** Shown only while this select has this value (in the browser; the server reads every field). */
  showWhen?: { field: string; value: string };
  fields: FormField[];
}

export interface DetailItem {
  label: string;
  value: Cell;
}

export interface LoadedObject {
  title: string;
  /** Input values of the form (strings). */
  values: Record<string, string>;
  /** Shown above the form, not editable (a slug, counters, timestamps). */
  readOnly: DetailItem[];
}

export interface FormSpec {
  sections: FormSection[];
  /**
   * The choices of the selects that come from the database, by field name, read together once per
   * form shown: each model query costs the web process about a millisecond of CPU (bench/README.md).
   */
  choices?(deps: Deps): Promise<Record<string, Option[]>>;
  /**
   * Messages by field about values that save but cannot work as they are (an instance that cannot
   * launch): shown beside the field, without stopping the save. `save` adds them to its `note`.
   */
  warnings?(deps: Deps, values: Record<string, string>): Record<string, string>;
  initial(deps: Deps): Record<string, string> | Promise<Record<string, string>>;
  load(deps: Deps, id: number): Promise<LoadedObject | null>;
  /**
   * Creates the object (`id` undefined) or changes it, through a domain command. Throw
   * AppError("validation", …, { fields }) for the form to show the messages. `note` is added to
   * the success message (what a connection test found).
   */
  /** `note` goes on in the saved message; `warning` is a message of its own: saved, but something will not work. */
  save(deps: Deps, actor: Actor, id: number | undefined, values: Record<string, unknown>): Promise<{ id: number; title: string; note?: string; warning?: string }>;
}

export interface DeletionItem {
  id: number;
  title: string;
  /** What goes with it ("3 appservers (all terminated)"). */
  consequences: string[];
  /** Why it cannot be deleted now; the confirmation page then offers no button. */
  blocker?: string;
  /** Data on shared services that a plain delete keeps, and "delete the data too" drops. */
  data?: DeletionData;
}

export interface DeletionData {
  /** Per service, what was made for the object, as the service says now (or as last recorded, beside the error). */
  services: InspectedService[];
  /** What the admin must type to delete the data too (the instance's slug). */
  confirmWord: string;
}

export interface DeleteSpec {
  impact(deps: Deps, actor: Actor, ids: number[]): Promise<DeletionItem[]>;
  /** `note`: what the success message adds (where kept data is). */
  run(deps: Deps, actor: Actor, ids: number[]): Promise<{ deleted: number; note?: string }>;
  /** "Delete the data too", for one object; `confirmation` is what the admin typed. */
  removeWithData?(deps: Deps, actor: Actor, id: number, confirmation: unknown): Promise<{ deleted: boolean; outcome: DropOutcome; title: string }>;
}

/** What an object's change page shows beside its form: buttons that post, and read-only tables. */
export interface ObjectExtras {
  actions: { label: string; path: string; help?: string }[];
  panels: { title: string; columns: string[]; rows: Cell[][]; empty: string }[];
}

export interface AdminModel<R extends { id: number } = { id: number }> {
  /** The URL segment: /admin/<slug>. */
  slug: string;
  name: string;
  plural: string;
  description: string;
  /** The console's page of an object ("View on site" on its admin page), when it has one. */
  siteUrl?(deps: Deps, id: number): Promise<string>;
  /** AuditEvent.subjectType of this model's objects: enables the history page. */
  subjectType?: string;
  list: ListSpec<R>;
  titleOf(row: R): string;
  /** Read-only models: what the object page shows. */
  detail?(deps: Deps, id: number): Promise<{ title: string; items: DetailItem[]; diff?: { subjectType: string; changes: unknown } } | null>;
  form?: FormSpec;
  /** Labels of audited keys that are not form fields (a JSON column the form edits field by field). */
  historyLabels?: Record<string, string>;
  /** Audited keys the history never shows: internal columns that events recorded before they were left out. */
  historyHidden?: readonly string[];
  /** Extra buttons and tables on an object's change page (a channel's test button and delivery log). */
  extras?(deps: Deps, id: number): Promise<ObjectExtras>;
  remove?: DeleteSpec;
}

/** Keeps each model's row type inside its own file; the engine sees rows as { id }. */
export function defineModel<R extends { id: number }>(model: AdminModel<R>): AdminModel {
  return model as unknown as AdminModel;
}
