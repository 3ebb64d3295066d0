// The admin's index, each model's change list, and an object's history.
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { loadChangeList, modelCount, parseListQuery } from "./change-list.js";
import { loadHistory } from "./history.js";
import { idOf, missing, modelOf, renderAdmin } from "./page-helpers.js";
import { ADMIN_MODELS } from "./registry.js";
import type { AdminModel } from "./types.js";

async function titleOf(deps: Deps, model: AdminModel, id: number): Promise<string | null> {
  if (model.form) return (await model.form.load(deps, id))?.title ?? null;
  return (await model.detail?.(deps, id))?.title ?? null;
}

export function listPages(deps: Deps) {
  return {
    async indexPage(_req: Request, res: Response) {
      const models = await Promise.all(ADMIN_MODELS.map(async (m) => ({
        slug: m.slug, plural: m.plural, description: m.description, canAdd: Boolean(m.form), count: await modelCount(deps, m),
      })));
      await renderAdmin(res, "index", null, { title: "Admin", models });
    },

    async listPage(req: Request, res: Response) {
      const model = modelOf(req);
      const list = await loadChangeList(deps, model, parseListQuery(model, req.query as Record<string, unknown>));
      await renderAdmin(res, "list", model, { title: model.plural, list, canAdd: Boolean(model.form), canDelete: Boolean(model.remove) });
    },

    async historyPage(req: Request, res: Response) {
      const model = modelOf(req);
      if (!model.subjectType) throw new AppError("not_found", `${model.plural} have no history page.`);
      const id = idOf(req, model);
      const objectTitle = await titleOf(deps, model, id);
      if (objectTitle === null) throw missing(model, id);
      const events = await loadHistory(deps, model, id);
      await renderAdmin(res, "history", model, { title: `History of ${objectTitle}`, objectTitle, objectId: id, events });
    },
  };
}
