// The user's own things: API tokens (list, create — shown once — and revoke).
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import type { FieldErrors } from "../../errors.js";
import { createApiToken, revokeApiToken, TOKEN_NAME_MAX } from "../../domain/auth/api-tokens.js";
import { listApiTokens } from "../../domain/auth/list-api-tokens.js";
import { flash } from "../middleware.js";
import { hasNul, NUL_FIELD_MESSAGE } from "../../domain/validation/field-reader.js";
import { renderPage } from "../render.js";
import { idOr404 } from "./route-helpers.js";

declare module "express-session" {
  interface SessionData {
    /** A token just created, until the page that shows it once. */
    newApiToken?: { token: string; name: string };
  }
}

const createTokenForm = z.object({
  name: z.string({ error: "Give the token one name." }).trim().max(TOKEN_NAME_MAX, `At most ${TOKEN_NAME_MAX} characters.`).refine((v) => !hasNul(v), NUL_FIELD_MESSAGE).default(""),
});

interface TokensPageExtra {
  newToken?: { token: string; name: string };
  errors?: FieldErrors;
  /** What was typed in the name field, shown again next to its error. */
  name?: string;
}

async function renderTokens(deps: Deps, req: Request, res: Response, extra: TokensPageExtra = {}, status = 200) {
  const tokens = await listApiTokens(deps, { userId: req.user!.id });
  // The new token is in this response only: never cached, never stored.
  if (extra.newToken) res.set("Cache-Control", "no-store");
  const apiBase = `${req.protocol}://${req.get("host") ?? "localhost"}`;
  await renderPage(res, "account/tokens", { title: "API tokens", tokens, apiBase, nameMax: TOKEN_NAME_MAX, newToken: null, errors: {}, name: "", ...extra }, status);
}

export function accountRoutes(deps: Deps): Router {
  const router = Router();

  // The token made by the POST before is shown by the first GET after it, then forgotten: a reload
  // shows the list without it instead of asking to send the form again (which made a second token).
  router.get("/tokens", (req, res) => {
    const newToken = req.session.newApiToken;
    delete req.session.newApiToken;
    return renderTokens(deps, req, res, newToken ? { newToken } : {});
  });

  // POST/redirect/GET: the plain token waits in the session (Redis, this user's only) for the one
  // GET that shows it, and is deleted from there by that GET.
  router.post("/tokens", async (req, res) => {
    const form = createTokenForm.safeParse({ name: req.body?.name });
    if (!form.success) {
      return renderTokens(deps, req, res, { errors: { name: form.error.issues[0]!.message }, name: String(req.body?.name ?? "") }, 400);
    }
    const user = req.user!;
    const { name } = form.data;
    const { token } = await createApiToken(deps, { githubLogin: user.githubLogin, name, actor: { id: user.id, login: user.githubLogin } });
    req.session.newApiToken = { token, name };
    res.redirect(303, "/account/tokens");
  });

  router.post("/tokens/:id/revoke", async (req, res) => {
    const id = idOr404(req.params.id, "Token");
    const revoked = await revokeApiToken(deps, { id, user: req.user! });
    if (revoked) flash(req, "ok", `Token ${revoked.prefix}…${revoked.name ? ` (${revoked.name})` : ""} revoked: scripts using it are now refused.`);
    else flash(req, "warning", "This token was already revoked or no longer exists; nothing changed.");
    res.redirect("/account/tokens");
  });

  return router;
}
