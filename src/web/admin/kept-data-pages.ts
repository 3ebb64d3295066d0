// One owner's kept data: what each service says about it now, and "Drop this data" behind the
// owner's name typed exactly. The rows go only when every drop succeeded.
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { flash } from "../middleware.js";
import { dropKeptData } from "../../domain/data/drop-kept-data.js";
import { inspectOwnerData, type InspectedService } from "../../domain/data/inspect-owner-data.js";
import { plural } from "./models/common.js";
import { keptDataAdmin } from "./models/kept-data.js";
import { actorOf, bodyOf, renderAdmin } from "./page-helpers.js";

function ownerOf(req: Request): string {
  const owner = String(req.params.owner);
  if (!/^[a-z0-9-]{1,80}$/.test(owner)) throw new AppError("not_found", "There is no kept data of that owner.");
  return owner;
}

async function renderOwner(
  res: Response, owner: string, services: InspectedService[], form: { confirmation: string; error: string | null }, problem: AppError | null = null,
): Promise<void> {
  await renderAdmin(res, "kept-owner", keptDataAdmin, {
    title: `Kept data of ${owner}`, owner, services, form, problem: problem?.message ?? null,
  }, problem?.status ?? 200);
}

export function keptDataPages(deps: Deps) {
  return {
    async ownerPage(req: Request, res: Response) {
      const owner = ownerOf(req);
      const services = await inspectOwnerData(deps, { scope: { owner } });
      if (!services.length) throw new AppError("not_found", `There is no kept data of "${owner}"; it may have been dropped already.`);
      await renderOwner(res, owner, services, { confirmation: "", error: null });
    },

    async dropSubmit(req: Request, res: Response) {
      const owner = ownerOf(req);
      const typed = bodyOf(req).confirmation;
      const confirmation = typeof typed === "string" ? typed : "";
      try {
        const outcome = await dropKeptData(deps, { actor: actorOf(req), owner, confirmation: typed });
        if (outcome.ok) {
          const dropped = outcome.services.reduce((n, s) => n + s.resources.length, 0);
          flash(req, "ok", `Dropped the kept data of ${owner}: ${plural(dropped, "database, user or bucket", "databases, users and buckets")}.`);
          return res.redirect("/admin/kept-data");
        }
        const problem = new AppError("unavailable", outcome.attempted
          ? "A service refused: some data could not be dropped. What happened to each resource is listed below."
          : "A service could not be reached: nothing was dropped. Each service's error is listed below.");
        return renderOwner(res, owner, outcome.services, { confirmation, error: null }, problem);
      } catch (err) {
        if (!(err instanceof AppError && err.code === "validation")) throw err;
        const services = await inspectOwnerData(deps, { scope: { owner } });
        return renderOwner(res, owner, services, { confirmation, error: err.details.fields?.confirmation ?? err.message }, err);
      }
    },
  };
}
