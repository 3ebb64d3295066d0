// Deleting, one object or a selection from the change list: a confirmation page that lists what
// goes with each object and what prevents it, then the model's delete command (all or nothing).
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { flash } from "../middleware.js";
import { plural } from "./models/common.js";
import { actorOf, bodyOf, idOf, listQueryOf, missing, modelOf, noun, postedIds, renderAdmin } from "./page-helpers.js";
import type { DropOutcome } from "../../domain/data/drop-owner-data.js";
import type { AdminModel, DeleteSpec } from "./types.js";

/** What the "delete the data too" form shows again after a post: the text typed, its error, the drops' outcome. */
interface DataFormState {
  confirmation: string;
  error: string | null;
  outcome: DropOutcome | null;
}

function removalOf(model: AdminModel): DeleteSpec {
  if (!model.remove) throw new AppError("bad_request", `${model.plural} cannot be deleted in the admin.`);
  return model.remove;
}

async function renderConfirmation(
  deps: Deps, req: Request, res: Response, model: AdminModel, ids: number[], problem?: AppError, dataForm?: DataFormState,
): Promise<void> {
  const items = await removalOf(model).impact(deps, actorOf(req), ids);
  if (items.length !== ids.length) {
    throw new AppError("not_found", ids.length === 1 ? missing(model, ids[0]!).message : `Some of the selected ${model.plural.toLowerCase()} no longer exist; go back and select again.`);
  }
  const single = ids.length === 1;
  await renderAdmin(res, "delete", model, {
    title: single ? `Delete ${noun(model)} ${items[0]!.title}` : `Delete ${plural(ids.length, noun(model), model.plural.toLowerCase())}`,
    items,
    ids,
    blocked: items.some((i) => i.blocker),
    action: single ? `/admin/${model.slug}/${ids[0]}/delete` : `/admin/${model.slug}/bulk${listQueryOf(req, { keepPage: true })}`,
    back: single ? `/admin/${model.slug}/${ids[0]}` : `/admin/${model.slug}${listQueryOf(req, { keepPage: true })}`,
    problem: problem?.message ?? null,
    dataAction: single && removalOf(model).removeWithData ? `/admin/${model.slug}/${ids[0]}/delete-data` : null,
    dataForm: dataForm ?? { confirmation: "", error: null, outcome: null },
  }, problem?.status ?? 200);
}

async function runDelete(deps: Deps, req: Request, res: Response, model: AdminModel, ids: number[]): Promise<void> {
  try {
    const { deleted, note } = await removalOf(model).run(deps, actorOf(req), ids);
    flash(req, "ok", `Deleted ${plural(deleted, noun(model), model.plural.toLowerCase())}.${note ? ` ${note}` : ""}`);
    // Back to the list as it was filtered, searched and sorted, from its first page: the page it was
    // on may be past the end now.
    res.redirect(`/admin/${model.slug}${listQueryOf(req, { keepPage: false })}`);
  } catch (err) {
    // Something changed since the confirmation (an appserver was launched): show the page again.
    if (err instanceof AppError && (err.code === "rule" || err.code === "conflict")) return renderConfirmation(deps, req, res, model, ids, err);
    throw err;
  }
}

export function deletePages(deps: Deps) {
  return {
    async deletePage(req: Request, res: Response) {
      const model = modelOf(req);
      await renderConfirmation(deps, req, res, model, [idOf(req, model)]);
    },

    async deleteSubmit(req: Request, res: Response) {
      const model = modelOf(req);
      await runDelete(deps, req, res, model, [idOf(req, model)]);
    },

    /** "Delete the data too": the typed confirmation, then the drops; the object goes only if all of them succeeded. */
    async deleteDataSubmit(req: Request, res: Response) {
      const model = modelOf(req);
      const id = idOf(req, model);
      const removeWithData = removalOf(model).removeWithData;
      if (!removeWithData) throw new AppError("not_found", `${model.plural} have no data to delete.`);
      const typed = bodyOf(req).confirmation;
      const confirmation = typeof typed === "string" ? typed : "";
      try {
        const { deleted, outcome, title } = await removeWithData(deps, actorOf(req), id, typed);
        if (deleted) {
          const dropped = outcome.services.reduce((n, s) => n + s.resources.length, 0);
          flash(req, "ok", `Deleted ${noun(model)} ${title} and its data: ${plural(dropped, "database, user or bucket", "databases, users and buckets")} dropped.`);
          return res.redirect(`/admin/${model.slug}`);
        }
        const problem = new AppError("unavailable", outcome.attempted
          ? "A service refused: some data could not be dropped, so the instance was not deleted. What happened to each resource is listed below."
          : "A service could not be reached: nothing was dropped and nothing was deleted. Each service's error is listed below.");
        return renderConfirmation(deps, req, res, model, [id], problem, { confirmation, error: null, outcome });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === "validation") {
          return renderConfirmation(deps, req, res, model, [id], err, { confirmation, error: err.details.fields?.confirmation ?? err.message, outcome: null });
        }
        if (err.code === "rule" || err.code === "conflict") return renderConfirmation(deps, req, res, model, [id], err);
        throw err;
      }
    },

    /** The change list's action form: the first post asks for confirmation, the second deletes. */
    async bulkAction(req: Request, res: Response) {
      const model = modelOf(req);
      const body = bodyOf(req);
      if (body.action !== "delete") throw new AppError("bad_request", "Choose an action for the selected rows.");
      removalOf(model);
      const ids = postedIds(body);
      if (!ids.length) {
        // As Django's admin does: the same list again, with the message above it.
        flash(req, "error", `Select at least one ${noun(model)} first; nothing was changed.`);
        return res.redirect(`/admin/${model.slug}${listQueryOf(req, { keepPage: true })}`);
      }
      if (body.confirm === "yes") return runDelete(deps, req, res, model, ids);
      await renderConfirmation(deps, req, res, model, ids);
    },
  };
}
