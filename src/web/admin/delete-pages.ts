// Deleting, one object or a selection from the change list: a confirmation page that lists what
// goes with each object and what prevents it, then the model's delete command (all or nothing).
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { flash } from "../middleware.js";
import { plural } from "./models/common.js";
import { actorOf, bodyOf, idOf, missing, modelOf, noun, postedIds, renderAdmin } from "./page-helpers.js";
import type { AdminModel, DeleteSpec } from "./types.js";

function removalOf(model: AdminModel): DeleteSpec {
  if (!model.remove) throw new AppError("bad_request", `${model.plural} cannot be deleted in the admin.`);
  return model.remove;
}

async function renderConfirmation(deps: Deps, req: Request, res: Response, model: AdminModel, ids: number[], problem?: AppError): Promise<void> {
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
    action: single ? `/admin/${model.slug}/${ids[0]}/delete` : `/admin/${model.slug}/bulk`,
    back: single ? `/admin/${model.slug}/${ids[0]}` : `/admin/${model.slug}`,
    problem: problem?.message ?? null,
  }, problem?.status ?? 200);
}

async function runDelete(deps: Deps, req: Request, res: Response, model: AdminModel, ids: number[]): Promise<void> {
  try {
    const { deleted } = await removalOf(model).run(deps, actorOf(req), ids);
    flash(req, "ok", `Deleted ${plural(deleted, noun(model), model.plural.toLowerCase())}.`);
    res.redirect(`/admin/${model.slug}`);
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

    /** The change list's action form: the first post asks for confirmation, the second deletes. */
    async bulkAction(req: Request, res: Response) {
      const model = modelOf(req);
      const body = bodyOf(req);
      if (body.action !== "delete") throw new AppError("bad_request", "Choose an action for the selected rows.");
      removalOf(model);
      const ids = postedIds(body, model);
      if (body.confirm === "yes") return runDelete(deps, req, res, model, ids);
      await renderConfirmation(deps, req, res, model, ids);
    },
  };
}
