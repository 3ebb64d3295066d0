// GET /api/v1/appservers/:id/logs: an appserver's stored log for scripts (bearer API tokens).
//   ?after=<seq>   lines after that seq (follow a log by passing the last seq received)
//   ?before=<seq>  lines before that seq
//   neither        the last lines
//   &limit=<n>     1 to 2000 (default 200)
// Mounted before apiRoutes, whose catch-all answers 404 for every path it does not know.
import { Router, type Request } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { DEFAULT_READ_LIMIT, MAX_READ_LIMIT, readLog, type LogPage } from "../../domain/logs/read-log.js";
import { bearer } from "./api.js";
import { idOr404, parseQuery } from "./route-helpers.js";

const seq = z.string({ error: "must be a whole number ≥ 0" }).regex(/^\d{1,10}$/, "must be a whole number ≥ 0").transform(Number)
  .refine((n) => n <= 2_147_483_647, "is too large");
const limitProblem = `must be a whole number from 1 to ${MAX_READ_LIMIT}`;
const logQuery = z.strictObject({
  after: seq.optional(),
  before: seq.optional(),
  limit: z.string({ error: limitProblem }).regex(/^\d{1,4}$/, limitProblem).transform(Number)
    .refine((n) => n >= 1 && n <= MAX_READ_LIMIT, limitProblem).optional(),
}).refine((q) => q.after === undefined || q.before === undefined, { message: "give after or before, not both", path: ["after"] });

/** The page of the log a query asks for, or a 400 saying what is wrong. */
export function parseLogQuery(appServerId: number, query: unknown): LogPage {
  const { after, before, limit = DEFAULT_READ_LIMIT } = parseQuery(logQuery, query);
  if (after !== undefined) return { appServerId, after, limit };
  if (before !== undefined) return { appServerId, before, limit };
  return { appServerId, limit };
}

/** The JSON answer of a log request, for the API and the console's log.json alike. */
export async function logPageJson(deps: Deps, req: Request) {
  const appServer = await getViewableAppServer(deps, { appServerId: idOr404(req.params.id, "AppServer"), user: req.user ?? null });
  const page = await readLog(deps, parseLogQuery(appServer.id, req.query));
  return { appServerId: appServer.id, lines: page.lines, more: page.more };
}

export function apiLogRoutes(deps: Deps): Router {
  const router = Router();
  router.get("/appservers/:id/logs", bearer(deps), async (req, res) => void res.json(await logPageJson(deps, req)));
  return router;
}
