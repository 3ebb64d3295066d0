// Cross-cutting request handling: CSRF, login and role checks, errors and 404s.
import { timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Redis } from "ioredis";
import { AppError, ERROR_STATUS } from "../errors.js";
import { randomToken } from "../crypto.js";
import type { Logger } from "../logger.js";
import type { SessionUser } from "../domain/auth/login-github-user.js";
import { renderPage, wantsJson } from "./render.js";
import { loginUrl, safeReturnPath } from "./return-path.js";
import { REDIS_DOWN, redisAway } from "../redis.js";
import { DATABASE_DOWN, DATABASE_SLOW, isDatabaseTimeout, isDatabaseUnreachable } from "../db.js";

declare module "express-session" {
  interface SessionData {
    csrfToken?: string;
    returnTo?: string;
    flash?: { kind: "ok" | "warning" | "error"; text: string }[];
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User extends SessionUser {}
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Synchronizer-token CSRF protection for every form (API calls use bearer tokens, not cookies). */
export function csrf(req: Request, res: Response, next: NextFunction): void {
  if (!req.session) return next(new AppError("internal", "Sessions are not available."));
  req.session.csrfToken ??= randomToken();
  res.locals.csrfToken = req.session.csrfToken;
  if (!UNSAFE.has(req.method)) return next();
  const sent = String((req.body as Record<string, unknown> | undefined)?._csrf ?? req.get("x-csrf-token") ?? "");
  const expected = Buffer.from(req.session.csrfToken);
  const given = Buffer.from(sent);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    const expired = !req.isAuthenticated?.();
    return next(new AppError(expired ? "unauthenticated" : "csrf", expired
      ? "Your session has expired. Log in again, then repeat what you were doing; nothing was changed."
      : "This form was out of date (missing or wrong security token). Reload the page and try again; nothing was changed."));
  }
  next();
}

/**
 * A 503 at once, saying so, while Redis is known to be away: the session, the job queues and the
 * live events all live there. (A Redis that does not answer is caught by askRedis's deadline.)
 */
export function refuseWhileRedisAway(redis: Redis): RequestHandler {
  return (_req, _res, next) => next(redisAway(redis) ? new AppError("unavailable", REDIS_DOWN) : undefined);
}

export function flash(req: Request, kind: "ok" | "warning" | "error", text: string): void {
  (req.session.flash ??= []).push({ kind, text });
}

/**
 * A redirect from an old address to the page's own (GET): the flash messages this request took
 * from the session go back there, for the page the browser is sent to.
 */
export function redirectKeepingFlash(req: Request, res: Response, url: string): void {
  const pending = res.locals.flash as SessionFlash | undefined;
  if (pending?.length) req.session.flash = [...pending, ...(req.session.flash ?? [])];
  res.redirect(301, url);
}

type SessionFlash = NonNullable<import("express-session").SessionData["flash"]>;

export function requireLogin(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  if (req.method === "GET") {
    // In the session (for the GitHub round trip) and in the URL (for a one-time link opened next).
    req.session.returnTo = safeReturnPath(req.originalUrl) ?? undefined;
    return res.redirect(loginUrl(req.originalUrl));
  }
  next(new AppError("unauthenticated", "Your session has expired. Log in again, then repeat what you were doing; nothing was changed."));
}

export function requireAdmin(req: Request, _res: Response, next: NextFunction): void {
  if (req.user?.role === "admin") return next();
  next(new AppError("forbidden", "Only admins may use the admin area."));
}

export function notFoundHandler(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError("not_found", `There is no page at ${req.path}.`));
}

const RETRY_AFTER_SECONDS = 5;

export function errorHandler(log: Logger) {
  return async (err: unknown, req: Request, res: Response, _next: NextFunction): Promise<void> => {
    const appError = toAppError(err);
    const status = appError.status;
    // A client's mistake (a stale form, a bad parameter) is nothing for an operator to act on:
    // one line at debug, without the stack, instead of a trace per request at error level.
    if (appError.code === "internal") log.error({ err, path: req.path }, "web.request.failed");
    else log.debug({ code: appError.code, status, method: req.method, path: req.path }, "web.request.refused");
    if (res.headersSent) return void res.end();
    // Every 503 is an outage of something that comes back (PostgreSQL, Redis): a client or a proxy
    // may retry after a few seconds instead of at once.
    if (status === 503) res.set("Retry-After", String(RETRY_AFTER_SECONDS));
    if (wantsJson(req)) {
      res.status(status).json({ error: { code: appError.code, message: appError.message, ...(appError.details.fields ? { fields: appError.details.fields } : {}) } });
      return;
    }
    try {
      pageLocalDefaults(req, res);
      await renderPage(res, "errors/error", { title: titleFor(status), status, message: appError.message, code: appError.code }, status);
    } catch (renderErr) {
      log.error({ err: renderErr }, "web.error_page.failed");
      res.status(status).type("text").send(appError.message);
    }
  };
}

/**
 * What the layout reads, for errors raised before the locals middleware ran (a body that could
 * not be read, a CSRF refusal): without them layout.ejs throws "user is not defined".
 */
function pageLocalDefaults(req: Request, res: Response): void {
  res.locals.user ??= req.user ?? null;
  res.locals.flash ??= [];
  res.locals.path ??= req.path;
  res.locals.csrfToken ??= req.session?.csrfToken ?? "";
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isDatabaseUnreachable(err)) return new AppError("unavailable", DATABASE_DOWN);
  if (isDatabaseTimeout(err)) return new AppError("unavailable", DATABASE_SLOW);
  const e = err as { status?: number; type?: string; message?: string; length?: number; limit?: number };
  // body-parser and friends signal client errors with a status; keep their message generic.
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    if (e.status === 413) return new AppError("too_large", tooLargeMessage(e.length, e.limit));
    if (e.status === 415) return new AppError("unsupported_media_type", "The request's content type is not supported.");
    return new AppError("bad_request", "The request could not be read.");
  }
  return new AppError("internal", "Something went wrong on our side. It has been logged; try again, and tell an admin if it persists.");
}

/**
 * What a body over the limit says (body-parser's error carries the sizes): how much was sent, how
 * much a request may carry, and that nothing changed. A form's page is gone by then: Back has it.
 */
function tooLargeMessage(length: number | undefined, limit: number | undefined): string {
  const kB = (n: number) => `${Math.ceil(n / 1024)} kB`;
  const sizes = typeof length === "number" && typeof limit === "number" ? ` (${kB(length)}; at most ${kB(limit)})` : "";
  return `The request is too large${sizes}: nothing was saved. A form's page keeps what you typed: go back, shorten the longest field, and send it again.`;
}

function titleFor(status: number): string {
  return ({ 400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Page not found", 409: "Not possible now", 413: "Too large", 415: "Unsupported content type", 422: "Not possible", 503: "Unavailable" } as Record<number, string>)[status]
    ?? (status >= 500 ? "Server error" : "Error");
}

export { ERROR_STATUS };
