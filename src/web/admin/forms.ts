// Reading a submitted admin form and building what the form view shows: each field with the value
// the user typed (a secret only as typed in the request being answered), its message, its choices.
import type { Deps } from "../../deps.js";
import type { FieldErrors } from "../../errors.js";
import { sharedReadOf } from "../shared-read.js";
import type { FormField, FormSection, FormSpec, Option } from "./types.js";

export interface FieldView {
  name: string;
  label: string;
  kind: FormField["kind"];
  value: string;
  error?: string;
  warning?: string;
  help?: string;
  placeholder: string;
  maxLength?: number;
  rows?: number;
  required: boolean;
  mono: boolean;
  half: boolean;
  options: Option[];
}

export interface FormView {
  sections: { title: string; help?: string; showWhen?: string; fields: FieldView[] }[];
  /** Messages for fields the form does not show (an unknown field, the slug of an instance). */
  otherErrors: string[];
  /** The shown fields that have a message, for the summary at the top. */
  invalid: { name: string; label: string }[];
}

/** The submitted values of the form's fields only (a checkbox that is absent was unchecked, and so were boxes of a list). */
export function readForm(sections: FormSection[], body: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of sections.flatMap((s) => s.fields)) {
    const raw = body[field.name];
    values[field.name] = field.kind === "checkbox" ? (raw === undefined ? "false" : raw) : field.kind === "checkboxes" ? (raw ?? []) : (raw ?? "");
  }
  return values;
}

function asText(value: unknown): string {
  if (Array.isArray(value)) return value.map(String).join("\n");
  return value === undefined || value === null ? "" : String(value);
}

/**
 * A form's choices from the database (load balancers, data services, instances…) are the same for
 * everyone: a web process's forms share them for SIDEBAR_CACHE_MS, like the sidebar, so a balancer
 * added a moment ago shows up in a select within that second. Read for each view, the instance
 * form's two choice queries were two of its four Prisma queries (bench/README.md, issue 17).
 */
const sharedChoices = sharedReadOf(async (deps, form: FormSpec): Promise<Record<string, Option[]>> => (await form.choices?.(deps)) ?? {});

/**
 * @param typed the values are what the user submitted in this request (a refused form), not what
 *   the form loaded: only then are secret fields filled in.
 */
export async function buildFormView(
  deps: Deps,
  form: FormSpec,
  values: Record<string, unknown>,
  errors: FieldErrors = {},
  typed = false,
): Promise<FormView> {
  const choices = await sharedChoices(deps, form);
  const texts = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, asText(v)]));
  const warnings = form.warnings?.(deps, texts) ?? {};
  const shown = new Set<string>();
  const built: FormView["sections"] = [];
  for (const section of form.sections) {
    const fields: FieldView[] = [];
    for (const f of section.fields) {
      shown.add(f.name);
      fields.push({
        name: f.name,
        label: f.label,
        kind: f.kind,
        // A stored secret is never sent to the page. One the user has just typed is theirs, in the
        // answer to their own request (never logged nor stored): a refused form gives it back, so a
        // typo in another field does not silently empty it and make them paste a key again.
        value: f.kind === "secret" && !typed ? "" : (texts[f.name] ?? ""),
        error: errors[f.name],
        warning: warnings[f.name],
        help: f.help,
        placeholder: typeof f.placeholder === "function" ? f.placeholder(texts) : (f.placeholder ?? ""),
        maxLength: f.maxLength,
        rows: f.rows,
        required: f.required ?? false,
        mono: f.mono ?? false,
        half: f.half ?? false,
        options: choices[f.name] ?? f.options?.() ?? [],
      });
    }
    built.push({ title: section.title, help: section.help, showWhen: section.showWhen && `${section.showWhen.field}=${section.showWhen.value}`, fields });
  }
  const otherErrors = Object.entries(errors).filter(([k]) => !shown.has(k)).map(([, message]) => message);
  const invalid = built.flatMap((s) => s.fields).filter((f) => f.error).map((f) => ({ name: f.name, label: f.label }));
  return { sections: built, otherErrors, invalid };
}
