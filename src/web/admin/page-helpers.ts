// What every admin page handler needs: the model and object named by the URL, the actor, and
// rendering inside the admin frame (the model menu on the left).
import type { Request, Response } from "express";
import type { Actor } from "../../domain/audit/record-audit-event.js";
import { AppError } from "../../errors.js";
import { renderPage, type PageLocals } from "../render.js";
import { ADMIN_MODELS, modelBySlug } from "./registry.js";
import type { AdminModel } from "./types.js";

export function modelOf(req: Request): AdminModel {
  return modelBySlug(String(req.params.model));
}

export function idOf(req: Request, model: AdminModel): number {
  const raw = String(req.params.id);
  if (!/^\d{1,9}$/.test(raw)) throw new AppError("not_found", `There is no ${model.name.toLowerCase()} with the id "${raw.slice(0, 20)}".`);
  return Number(raw);
}

export function missing(model: AdminModel, id: number): AppError {
  return new AppError("not_found", `There is no ${model.name.toLowerCase()} with the id ${id}; it may have been deleted.`);
}

export function actorOf(req: Request): Actor {
  return { id: req.user!.id, login: req.user!.githubLogin };
}

/** Ids posted by the change list's checkboxes (none, one or many); anything but digits is refused. */
export function postedIds(body: Record<string, unknown>): number[] {
  const raw = body.ids;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.some((v) => typeof v !== "string" || !/^\d{1,9}$/.test(v))) throw new AppError("bad_request", "The selection is not a list of ids.");
  return [...new Set((list as string[]).map(Number))];
}

/**
 * The query string of the change list a bulk action was posted from ("" or "?o=-name&p=2"): the list
 * form posts to /bulk with it (filters, search, order, page), so that the way back is to the same
 * rows. Re-encoded, and only ever put after a path of ours.
 */
export function listQueryOf(req: Request, options: { keepPage: boolean }): string {
  const at = req.originalUrl.indexOf("?");
  const params = new URLSearchParams(at >= 0 ? req.originalUrl.slice(at + 1) : "");
  if (!options.keepPage) params.delete("p");
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function bodyOf(req: Request): Record<string, unknown> {
  return (req.body ?? {}) as Record<string, unknown>;
}

export function renderAdmin(res: Response, view: string, model: AdminModel | null, locals: PageLocals, status = 200): Promise<void> {
  return renderPage(res, `admin/${view}`, {
    ...locals,
    model,
    adminModels: ADMIN_MODELS.map((m) => ({ slug: m.slug, plural: m.plural })),
  }, status);
}

/** A singular noun for messages: "instance", "load balancer". */
export function noun(model: AdminModel): string {
  return model.name.toLowerCase();
}
