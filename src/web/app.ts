// createApp(deps) builds the Express app; it never listens (tests and bin/web.ts do).
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type RequestHandler } from "express";
import session from "express-session";
import helmet from "helmet";
import type { Deps } from "../deps.js";
import { publicUrlOf } from "../config.js";
import { RedisSessionStore } from "./session-store.js";
import { csrf, errorHandler, notFoundHandler, refuseWhileRedisAway, requireLogin } from "./middleware.js";
import { authRoutes, createPassport } from "./routes/auth.js";
import { consoleRoutes } from "./routes/console.js";
import { actionRoutes } from "./routes/actions.js";
import { decommissionRoutes } from "./routes/decommission.js";
import { cleanupRoutes } from "./routes/cleanup.js";
import { sshAccessRoutes } from "./routes/ssh-access.js";
import { orphanRoutes } from "./routes/orphans.js";
import { rolloutRoutes } from "./routes/rollouts.js";
import { adminJobRoutes } from "./routes/admin-jobs.js";
import { API_BODY_TYPE, apiRoutes } from "./routes/api.js";
import { apiLogRoutes } from "./routes/api-logs.js";
import { appServerLogRoutes } from "./routes/appserver-log.js";
import { adminRoutes } from "./admin/routes.js";
import { accountRoutes } from "./routes/account.js";
import { metricsRoutes } from "./routes/metrics.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { renderView, viewHelpers, viewsDir } from "./view-helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface WebApp {
  app: express.Express;
  sessionMiddleware: RequestHandler;
}

export function createApp(deps: Deps): WebApp {
  const app = express();
  app.set("views", viewsDir);
  app.set("view engine", "ejs");
  // Views are found once (express's view cache) and compiled once (renderView): compiling them on
  // every request cost the admin change list three quarters of its time (bench/pages). Restart to
  // see a template edit.
  // Includes are written from the views root ("/admin/_nav"): EJS resolves those against `root`
  // directly, but checks the disk (existsSync) for every relative include() it runs, and that was
  // 15% of the web process's CPU under load (bench/pages: the change list included a partial per cell).
  app.set("view cache", true);
  app.engine("ejs", (file: string, data: object, done: (err: Error | null, html?: string) => void) => {
    let html: string;
    try {
      html = renderView(file, data);
    } catch (err) {
      return done(err as Error);
    }
    done(null, html);
  });
  app.set("trust proxy", deps.config.NODE_ENV === "production" ? 1 : false);
  app.disable("x-powered-by");
  // No ETag on pages and API answers: it hashed every body (a change list's 57 KB) after the page was
  // read and rendered, so a matching tag saved only the bytes of a page, never its work; the API
  // says no-store anyway. The files under public/ keep theirs (express.static sets its own).
  app.set("etag", false);
  app.locals.h = viewHelpers;

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { "img-src": ["'self'", "data:", "https:"], "script-src": ["'self'"], "upgrade-insecure-requests": null },
      },
    }),
  );
  // Browsers ask for /favicon.ico on pages without a <link rel="icon"> (a raw log, a JSON answer):
  // the icon, before the login check, instead of a login redirect that becomes where login returns to.
  app.get("/favicon.ico", (_req, res) => res.redirect(301, "/static/favicon.svg"));
  app.use("/static", express.static(path.join(root, "public"), { maxAge: deps.config.NODE_ENV === "production" ? "1h" : 0 }));

  app.use(refuseWhileRedisAway(deps.redis));
  // The API authenticates with bearer tokens only, so it needs neither cookies nor CSRF tokens.
  // Prometheus scrapes without a session (token or loopback, routes/metrics.ts).
  app.use(metricsRoutes(deps));
  // GitHub's webhooks authenticate with their signature (routes/webhooks.ts).
  app.use(webhookRoutes(deps));
  app.use("/api/v1", apiLogRoutes(deps));
  // The body as text: apiRoutes parses it, saying what is wrong with one that is not a JSON object.
  app.use("/api/v1", express.text({ type: API_BODY_TYPE, limit: "256kb" }), apiRoutes(deps));

  const sessionMiddleware = session({
    name: "ocim.sid",
    // From SECRET_KEY: a cookie signed by another install, or before SECRET_KEY was rotated, is refused.
    secret: deps.secrets.derive("session-cookie"),
    store: new RedisSessionStore(deps.redis, Math.round(deps.config.SESSION_MAX_AGE_HOURS * 3600), deps.config.REDIS_TIMEOUT_MS, deps.now),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: "lax", secure: deps.config.secureCookies, maxAge: deps.config.SESSION_MAX_AGE_HOURS * 3600_000 },
  });
  const passport = createPassport(deps, publicUrlOf(deps));
  app.use(sessionMiddleware, passport.initialize(), passport.session());
  app.use(express.urlencoded({ extended: false, limit: "256kb", parameterLimit: 2000 }));
  app.use(csrf);
  app.use((req, res, next) => {
    res.locals.user = req.user ?? null;
    res.locals.flash = req.session.flash ?? [];
    delete req.session.flash;
    res.locals.path = req.path;
    // The request's clock, for relative times (h.time): tests move deps.now instead of waiting.
    res.locals.now = deps.now();
    next();
  });

  app.use(authRoutes(deps, passport));
  app.use("/admin", requireLogin, adminJobRoutes(deps), adminRoutes(deps));
  app.use("/account", requireLogin, accountRoutes(deps));
  app.use(requireLogin, appServerLogRoutes(deps));
  app.use(requireLogin, consoleRoutes(deps), actionRoutes(deps), decommissionRoutes(deps), cleanupRoutes(deps), sshAccessRoutes(deps), orphanRoutes(deps), rolloutRoutes(deps));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.log));
  return { app, sessionMiddleware };
}
