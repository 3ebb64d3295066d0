// Add and change pages: the form, its submission through the model's domain command, and the form
// again with every message next to its field and the user's input kept when the command refuses.
import { createHash } from "node:crypto";
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError, type FieldErrors } from "../../errors.js";
import { flash } from "../middleware.js";
import { buildFormView, readForm } from "./forms.js";
import { changesOf, diffFields, idNamesIn } from "./history.js";
import { modelBySubjectType } from "./registry.js";
import { actorOf, bodyOf, idOf, missing, modelOf, noun, renderAdmin } from "./page-helpers.js";
import type { AdminModel, DetailItem, FormSpec } from "./types.js";

interface FormState {
  id?: number;
  title: string;
  values: Record<string, unknown>;
  readOnly?: DetailItem[];
  errors?: FieldErrors;
  problem?: string;
  /** `values` are what this request submitted: the secrets typed in it are given back. */
  typed?: boolean;
  /** The change form's version of the object (versionOf), posted back with it. */
  version?: string;
}

/**
 * What the change form showed of the object, as a short digest posted back with it: a save from a
 * form of other values (a second tab, a page kept open while someone else saved) is refused instead
 * of silently putting back what that save changed. Secret fields are left out (loaded as blanks anyway).
 */
function versionOf(form: FormSpec, values: Record<string, string>): string {
  const secret = new Set(form.sections.flatMap((s) => s.fields).filter((f) => f.kind === "secret").map((f) => f.name));
  const shown = Object.entries(values).filter(([name]) => !secret.has(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash("sha256").update(JSON.stringify(shown)).digest("base64url").slice(0, 22);
}

/** Who saved the object last and when, for the message of a refused stale save ("" without a history). */
async function lastChangeOf(deps: Deps, model: AdminModel, id: number): Promise<string> {
  if (!model.subjectType) return "";
  const event = await deps.db.auditEvent.findFirst({
    where: { subjectType: model.subjectType, subjectId: String(id) }, orderBy: { id: "desc" }, select: { actorLogin: true, createdAt: true },
  });
  return event ? ` (by ${event.actorLogin}, at ${event.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC)` : "";
}

function formOf(model: AdminModel): FormSpec {
  if (!model.form) throw new AppError("bad_request", `${model.plural} are read-only in the admin.`);
  return model.form;
}

async function renderForm(deps: Deps, res: Response, model: AdminModel, state: FormState, status = 200): Promise<void> {
  const form = await buildFormView(deps, formOf(model), state.values, state.errors, state.typed);
  // The page may hold a secret the user typed: no copy of it is kept by a browser or a proxy.
  if (state.typed) res.set("Cache-Control", "no-store");
  const adding = state.id === undefined;
  await renderAdmin(res, "form", model, {
    title: adding ? `Add ${noun(model)}` : state.title,
    heading: adding ? `Add ${noun(model)}` : `Change ${noun(model)}: ${state.title}`,
    objectId: state.id ?? null,
    objectTitle: state.title,
    version: state.version ?? null,
    readOnly: state.readOnly ?? [],
    form,
    problem: state.problem ?? null,
    canDelete: Boolean(model.remove) && !adding,
    siteUrl: !adding && model.siteUrl ? await model.siteUrl(deps, state.id!) : null,
    extras: !adding && model.extras ? await model.extras(deps, state.id!) : { actions: [], panels: [] },
  }, status);
}

/** Redirect after a save, as the pressed button asked: back to the list, keep editing, or add another. */
function afterSave(req: Request, res: Response, model: AdminModel, id: number): void {
  const next = bodyOf(req)._save;
  if (next === "continue") return res.redirect(`/admin/${model.slug}/${id}`);
  if (next === "another") return res.redirect(`/admin/${model.slug}/add`);
  res.redirect(`/admin/${model.slug}`);
}

/** Runs a save; a refusal re-renders the form (400 with field messages, or the rule's status). */
async function save(deps: Deps, req: Request, res: Response, model: AdminModel, state: FormState, run: () => Promise<{ id: number; title: string; note?: string; warning?: string }>): Promise<void> {
  try {
    const saved = await run();
    flash(req, "ok", `The ${noun(model)} "${saved.title}" was ${state.id === undefined ? "added" : "saved"}.${saved.note ? ` ${saved.note}` : ""}`);
    if (saved.warning) flash(req, "warning", saved.warning);
    afterSave(req, res, model, saved.id);
  } catch (err) {
    if (!(err instanceof AppError) || !["validation", "rule", "conflict"].includes(err.code)) throw err;
    const errors = err.details.fields ?? {};
    await renderForm(deps, res, model, { ...state, errors, problem: err.message, typed: true }, err.status);
  }
}

export function formPages(deps: Deps) {
  return {
    async addPage(req: Request, res: Response) {
      const model = modelOf(req);
      await renderForm(deps, res, model, { title: "", values: await formOf(model).initial(deps) });
    },

    async addSubmit(req: Request, res: Response) {
      const model = modelOf(req);
      const form = formOf(model);
      const values = readForm(form.sections, bodyOf(req));
      await save(deps, req, res, model, { title: "", values }, () => form.save(deps, actorOf(req), undefined, values));
    },

    async objectPage(req: Request, res: Response) {
      const model = modelOf(req);
      const id = idOf(req, model);
      if (!model.form) return detailPage(deps, res, model, id);
      const loaded = await model.form.load(deps, id);
      if (!loaded) throw missing(model, id);
      const version = versionOf(model.form, loaded.values);
      await renderForm(deps, res, model, { id, title: loaded.title, values: loaded.values, readOnly: loaded.readOnly, version });
    },

    async changeSubmit(req: Request, res: Response) {
      const model = modelOf(req);
      const form = formOf(model);
      const id = idOf(req, model);
      const loaded = await form.load(deps, id);
      if (!loaded) throw missing(model, id);
      const values = readForm(form.sections, bodyOf(req));
      const current = versionOf(form, loaded.values);
      const shown = bodyOf(req)._version;
      if (typeof shown === "string" && shown !== "" && shown !== current) {
        // The form is now at the current version: saving it again replaces that change, knowingly.
        const problem = `This ${noun(model)} was saved by someone else since you opened this form${await lastChangeOf(deps, model, id)}. ` +
          "Nothing was saved: the form shows what you typed. Save again to replace their changes with yours, or open the page again to start from theirs.";
        return renderForm(deps, res, model, { id, title: loaded.title, values, readOnly: loaded.readOnly, typed: true, version: current, problem }, 409);
      }
      // A form posted without a version (a script, a page from before versions) saves as before.
      const state = { id, title: loaded.title, values, readOnly: loaded.readOnly, version: typeof shown === "string" && shown ? shown : current };
      await save(deps, req, res, model, state, () => form.save(deps, actorOf(req), id, values));
    },
  };
}

async function detailPage(deps: Deps, res: Response, model: AdminModel, id: number): Promise<void> {
  const detail = await model.detail?.(deps, id);
  if (!detail) throw missing(model, id);
  await renderAdmin(res, "detail", model, {
    title: detail.title,
    siteUrl: model.siteUrl ? await model.siteUrl(deps, id) : null,
    items: detail.items,
    changes: detail.diff
      ? changesOf(detail.diff.changes, diffFields(modelBySubjectType(detail.diff.subjectType)), await idNamesIn(deps.db, [detail.diff.changes]))
      : null,
  });
}
