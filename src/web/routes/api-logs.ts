// GET /api/v1/appservers/:id/logs: an appserver's stored log for scripts (bearer API tokens).
//   ?after=<seq>   lines after that seq (follow a log by passing the last seq received)
//   ?before=<seq>  lines before that seq
//   neither        the last lines
//   &limit=<n>     1 to 2000 (default 200)
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { authenticateApiToken } from "../../domain/auth/api-tokens.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { DEFAULT_READ_LIMIT, MAX_READ_LIMIT, readLog, type LogPage } from "../../domain/logs/read-log.js";

const seq = z.string().regex(/^\d{1,10}$/, "must be a whole number ≥ 0").transform(Number)
  .refine((n) => n <= 2_147_483_647, "is too large");
const logQuery = z.object({
  after: seq.optional(),
  before: seq.optional(),
  limit: z.string().regex(/^\d{1,4}$/, `must be a whole number from 1 to ${MAX_READ_LIMIT}`).transform(Number)
    .refine((n) => n >= 1 && n <= MAX_READ_LIMIT, `must be from 1 to ${MAX_READ_LIMIT}`).optional(),
}).refine((q) => q.after === undefined || q.before === undefined, { message: "give after or before, not both", path: ["after"] });

/** The page of the log a query asks for (shared with the console's log.json), or a 400 saying what is wrong. */
export function parseLogQuery(appServerId: number, query: unknown): LogPage {
  const parsed = logQuery.safeParse(query);
  if (!parsed.success) {
    const fields = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? "query"), i.message]));
    const summary = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join("; ");
    throw new AppError("validation", `Bad query: ${summary}.`, { fields });
  }
  const { after, before, limit = DEFAULT_READ_LIMIT } = parsed.data;
  if (after !== undefined) return { appServerId, after, limit };
  if (before !== undefined) return { appServerId, before, limit };
  return { appServerId, limit };
}

export function apiLogRoutes(deps: Deps): Router {
  const router = Router();
  router.get("/appservers/:id/logs", requireApiToken(deps), async (req, res) => {
    const appServerId = Number(req.params.id);
    const appServer = await getViewableAppServer(deps, { appServerId, user: res.locals.apiUser });
    const page = await readLog(deps, parseLogQuery(appServer.id, req.query));
    res.json({ appServerId: appServer.id, lines: page.lines, more: page.more });
  });
  return router;
}

function requireApiToken(deps: Deps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const user = token ? await authenticateApiToken(deps, token) : null;
    if (!user) {
      res.set("WWW-Authenticate", 'Bearer realm="ocim"');
      return next(new AppError("unauthenticated", token
        ? "This API token is unknown, revoked, or belongs to a deactivated user."
        : "Send an API token: Authorization: Bearer <token> (make one on the API tokens page)."));
    }
    res.locals.apiUser = user;
    next();
  };
}
