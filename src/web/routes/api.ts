// The JSON API under /api/v1: bearer tokens only (no cookies, so no CSRF), reads and launches/acts on appservers (docs/api-and-cli.md).
// Errors are JSON { error: { code, message, fields? } } through the app's error handler.
import { Router, type NextFunction, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { authenticateApiToken } from "../../domain/auth/api-tokens.js";
import { listInstances } from "../../domain/instances/list-instances.js";
import { getInstance } from "../../domain/instances/get-instance.js";
import { getAppServer } from "../../domain/appservers/get-appserver.js";
import { launchAppServer } from "../../domain/appservers/launch-appserver.js";
import { runAppServerAction, type ActionName } from "./run-appserver-action.js";
import { instanceDetail, instanceListItem } from "./api-serializers.js";
import { parseQuery, pathId } from "./route-helpers.js";
import { parseJsonObject } from "../../domain/validation/json-settings.js";

export const API_MAX_LIMIT = 200;
/** The one body type the API reads (app.ts, then jsonObjectBody) and accepts. */
export const API_BODY_TYPE = "application/json";

function intParam(min: number, max: number) {
  const problem = `an integer from ${min} to ${max}`;
  return z.string({ error: problem }).regex(/^[0-9]{1,9}$/, problem).transform(Number)
    .refine((n) => n >= min && n <= max, problem);
}

const instancesQuery = z.strictObject({
  q: z.string({ error: "one search text" }).trim().max(200, "at most 200 characters").optional(),
  archived: z.enum(["false", "true", "all"], 'one of "false" (not archived, the default), "true" (only archived) or "all"').default("false"),
  limit: intParam(1, API_MAX_LIMIT).default(50),
  offset: intParam(0, 100_000_000).default(0),
});
const noQuery = z.strictObject({});

const ARCHIVED = { false: "exclude", true: "only", all: "include" } as const;

export function bearer(deps: Deps) {
  return async (req: Request, res: Response, next: NextFunction) => {
    res.set("Cache-Control", "no-store");
    const header = req.get("authorization");
    const match = /^Bearer +(\S+)$/i.exec(header ?? "");
    if (!match) {
      res.set("WWW-Authenticate", 'Bearer realm="ocim"');
      throw new AppError("unauthenticated", header === undefined
        ? "An API token is required: send the header \"Authorization: Bearer <token>\". Create a token on the API tokens page (/account/tokens)."
        : "The Authorization header is malformed: it must be \"Bearer <token>\", the word Bearer, a space and the token, nothing after it.");
    }
    const found = await authenticateApiToken(deps, match[1]!);
    if ("refused" in found) {
      res.set("WWW-Authenticate", 'Bearer realm="ocim", error="invalid_token"');
      throw new AppError("unauthenticated", found.refused);
    }
    req.user = found.user;
    next();
  };
}

const noBody = z.object({}).strict();
const activateBody = z.object({ deactivateOthers: z.boolean().optional() }).strict();

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  throw new AppError("validation", `Invalid request body: ${parsed.error.issues.map((i) => (i.code === "unrecognized_keys" ? `unknown field(s) ${i.keys.join(", ")}` : i.message)).join("; ")}.`);
}

/**
 * The body the routes read: a JSON object, or none. app.ts reads an application/json body as text and
 * it is parsed here, with the check the admin's JSON fields use, so a body that is not a JSON object
 * (`{"a":`, `null`, `[]`) is told why; body-parser's own parse said only "could not be read".
 * A body of another type is refused: it was passed over, and the action ran as if nothing had been
 * sent (a form, or application/vnd.api+json, meaning "deactivateOthers" got a plain activate), so
 * only application/json is accepted, as docs/api-and-cli.md says.
 * A Content-Length of 0 is no body (type-is counts it as one).
 */
function jsonObjectBody(req: Request, _res: Response, next: NextFunction): void {
  const sendsBody = ["POST", "PUT", "PATCH"].includes(req.method) && req.get("content-length") !== "0";
  const type = sendsBody ? req.is(API_BODY_TYPE) : null;
  if (type === false) {
    const sent = req.get("content-type")?.split(";")[0]!.trim().slice(0, 100);
    throw new AppError("unsupported_media_type", `The request body must be JSON sent with the header Content-Type: ${API_BODY_TYPE} (${sent ? `this one was ${sent}` : "this one had none"}), or the request must have no body.`);
  }
  if (type === null) {
    req.body = undefined;
    return next();
  }
  const parsed = parseJsonObject(String(req.body));
  if ("error" in parsed) throw new AppError("bad_request", `Invalid request body. ${parsed.error}`);
  req.body = parsed.value;
  next();
}

const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header as a launch key: a retried call finds the appserver the first one made. */
function idempotencyKey(req: Request): string | undefined {
  const key = req.get("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY_RE.test(key)) {
    throw new AppError("validation", "The Idempotency-Key header must be 1 to 200 visible ASCII characters (a UUID, for example).", { fields: { "Idempotency-Key": "1 to 200 visible ASCII characters" } });
  }
  return `api:${key}`;
}

/**
 * The last handler of each API route, `router.route(path).get(…).all(methodNotAllowed)` (the 405 of
 * router's README, "advanced .route() usage"): the path exists, the method does not. Allow lists the
 * route's own methods (req.route.methods), so it stays true as methods are added.
 */
export function methodNotAllowed(req: Request, res: Response): never {
  const methods = Object.keys((req.route as { methods: Record<string, boolean> }).methods).filter((m) => m !== "_all").map((m) => m.toUpperCase());
  if (methods.includes("GET") && !methods.includes("HEAD")) methods.push("HEAD"); // Express answers HEAD with the GET handler
  const allow = methods.join(", ");
  res.set("Allow", allow);
  throw new AppError("method_not_allowed", `${req.method} is not allowed on ${req.baseUrl}${req.path}: it accepts ${allow}.`);
}

export function apiRoutes(deps: Deps): Router {
  const router = Router();
  router.use(bearer(deps), jsonObjectBody);

  // Each path is a route ending in .all(methodNotAllowed): another method gets 405, not 404.
  router.route("/instances").get(async (req, res) => {
    const query = parseQuery(instancesQuery, req.query);
    const list = await listInstances(deps, { q: query.q, archived: ARCHIVED[query.archived], limit: query.limit, offset: query.offset });
    res.json({ instances: list.rows.map(instanceListItem), total: list.total, limit: query.limit, offset: query.offset });
  }).all(methodNotAllowed);

  router.route("/instances/:id").get(async (req, res) => {
    parseQuery(noQuery, req.query);
    res.json(instanceDetail(await getInstance(deps, { id: pathId(req, "instance") })));
  }).all(methodNotAllowed);

  // Launch: a new appserver from the instance's current settings; provisioning runs in a worker.
  router.route("/instances/:id/appservers").post(async (req, res) => {
    parseQuery(noQuery, req.query);
    parseBody(noBody, req.body);
    const user = req.user!;
    const launchKey = idempotencyKey(req);
    const as = await launchAppServer(deps, { instanceId: pathId(req, "instance"), actor: { id: user.id, login: user.githubLogin }, launchKey });
    if (as.replayed) res.set("Idempotent-Replayed", "true");
    res.status(202).location(`/api/v1/appservers/${as.id}`).json(await getAppServer(deps, { id: as.id, user: req.user }));
  }).all(methodNotAllowed);

  // Activate (optionally deactivating the others), deactivate, terminate: each runs in the request
  // and answers with the command's own message; a refusal keeps its code (404, 409, 503).
  for (const verb of ["activate", "deactivate", "terminate"] as const) {
    router.route(`/appservers/:id/${verb}`).post(async (req, res) => {
      parseQuery(noQuery, req.query);
      const body = parseBody(verb === "activate" ? activateBody : noBody, req.body) as { deactivateOthers?: boolean };
      const name: ActionName = verb === "activate" && body.deactivateOthers ? "activate-exclusively" : verb;
      const id = pathId(req, "appserver");
      const message = await runAppServerAction(deps, name, { appServerId: id, actor: { id: req.user!.id, login: req.user!.githubLogin } });
      res.json({ message, appServer: await getAppServer(deps, { id, user: req.user }) });
    }).all(methodNotAllowed);
  }

  router.route("/appservers/:id").get(async (req, res) => {
    parseQuery(noQuery, req.query);
    res.json(await getAppServer(deps, { id: pathId(req, "appserver"), user: req.user }));
  }).all(methodNotAllowed);

  router.use((req) => {
    throw new AppError("not_found", `There is no API endpoint ${req.method} ${req.baseUrl}${req.path}.`);
  });
  return router;
}
