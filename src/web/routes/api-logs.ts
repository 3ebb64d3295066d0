// GET /api/v1/appservers/:id/logs: an appserver's stored log for scripts (bearer API tokens).
//   ?after=<seq>   lines after that seq (follow a log by passing the last seq received)
//   ?before=<seq>  lines before that seq
//   neither        the last lines
//   &limit=<n>     1 to 2000 (default 200)
// GET /api/v1/appservers/:id/logs/search?q=<text>[&after=<seq>|&before=<seq>][&limit=<n>][&count=1]
//   the lines containing the text (case-insensitive), after or before a seq, up to 100 at a time
// GET /api/v1/appservers/:id/logs/outline  plays and tasks with durations, the first failed line
// GET /api/v1/appservers/:id/logs.txt      the whole log as text (a download)
// Mounted before apiRoutes, whose catch-all answers 404 for every path it does not know.
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { getViewableAppServer } from "../../domain/logs/get-viewable-appserver.js";
import { DEFAULT_READ_LIMIT, MAX_READ_LIMIT, readLog, type LogPage } from "../../domain/logs/read-log.js";
import { getLogBounds } from "../../domain/logs/log-bounds.js";
import { getLogOutline } from "../../domain/logs/get-log-outline.js";
import { MAX_SEARCH_HITS, MAX_SEARCH_TEXT, searchLog } from "../../domain/logs/search-log.js";
import { readRawLog } from "../../domain/logs/read-raw-log.js";
import { bearer, methodNotAllowed } from "./api.js";
import { parseQuery, pathId } from "./route-helpers.js";

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

const hitsProblem = `must be a whole number from 1 to ${MAX_SEARCH_HITS}`;
const searchQuery = z.strictObject({
  q: z.string({ error: "give one search text" }).trim().min(1, "give the text to search for").max(MAX_SEARCH_TEXT, `at most ${MAX_SEARCH_TEXT} characters`),
  after: seq.optional(),
  before: seq.optional(),
  limit: z.string({ error: hitsProblem }).regex(/^\d{1,3}$/, hitsProblem).transform(Number)
    .refine((n) => n >= 1 && n <= MAX_SEARCH_HITS, hitsProblem).optional(),
  count: z.enum(["0", "1"], 'must be "1" (count the hits) or "0"').optional(),
}).refine((q) => q.after === undefined || q.before === undefined, { message: "give after or before, not both", path: ["after"] });
const noQuery = z.strictObject({});

/**
 * The appserver asked for, when the user may see it. The id is read by the caller: the API's paths
 * answer 400 for one that cannot be an id (pathId), the console's pages 404 (idOr404).
 */
function viewable(deps: Deps, req: Request, appServerId: number) {
  return getViewableAppServer(deps, { appServerId, user: req.user ?? null });
}

/** Search hits, for the API and the console's log/search.json alike. */
export async function logSearchJson(deps: Deps, req: Request, appServerId: number) {
  const appServer = await viewable(deps, req, appServerId);
  const query = parseQuery(searchQuery, req.query);
  const found = await searchLog(deps, { appServerId: appServer.id, q: query.q, after: query.after, before: query.before, limit: query.limit, count: query.count === "1" });
  return { appServerId: appServer.id, q: query.q, ...found };
}

/** Plays, tasks and the first failure, with the log's extent. */
export async function logOutlineJson(deps: Deps, req: Request, appServerId: number) {
  const appServer = await viewable(deps, req, appServerId);
  parseQuery(noQuery, req.query);
  const bounds = await getLogBounds(deps, { appServerId: appServer.id, status: appServer.status });
  return { appServerId: appServer.id, status: appServer.status, ...bounds, ...(await getLogOutline(deps, { appServerId: appServer.id, bounds })) };
}

/** The whole log as a text download, streamed a page at a time. */
export async function sendRawLog(deps: Deps, req: Request, res: Response, appServerId: number): Promise<void> {
  const appServer = await viewable(deps, req, appServerId);
  parseQuery(noQuery, req.query);
  res.set("Content-Type", "text/plain; charset=utf-8");
  res.attachment(`appserver-${appServer.id}.log`);
  for await (const chunk of readRawLog(deps, { appServerId: appServer.id })) {
    if (res.destroyed) return; // the reader cancelled the download
    if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
  }
  res.end();
}

/** The JSON answer of a log request, for the API and the console's log.json alike. */
export async function logPageJson(deps: Deps, req: Request, appServerId: number) {
  const appServer = await viewable(deps, req, appServerId);
  const page = await readLog(deps, parseLogQuery(appServer.id, req.query));
  return { appServerId: appServer.id, lines: page.lines, more: page.more };
}

export function apiLogRoutes(deps: Deps): Router {
  const router = Router();
  // The token is checked for every method (a 405 too, as apiRoutes does), by each route: a router.use
  // here would run for all of /api/v1, before apiRoutes' own check.
  router.route("/appservers/:id/logs").all(bearer(deps)).get(async (req, res) => void res.json(await logPageJson(deps, req, pathId(req, "appserver")))).all(methodNotAllowed);
  router.route("/appservers/:id/logs/search").all(bearer(deps)).get(async (req, res) => void res.json(await logSearchJson(deps, req, pathId(req, "appserver")))).all(methodNotAllowed);
  router.route("/appservers/:id/logs/outline").all(bearer(deps)).get(async (req, res) => void res.json(await logOutlineJson(deps, req, pathId(req, "appserver")))).all(methodNotAllowed);
  router.route("/appservers/:id/logs.txt").all(bearer(deps)).get((req, res) => sendRawLog(deps, req, res, pathId(req, "appserver"))).all(methodNotAllowed);
  return router;
}
