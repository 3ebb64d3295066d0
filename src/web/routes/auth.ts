// Login with GitHub (members of GITHUB_ORG only), one-time local links, logout.
import { Router, type NextFunction, type Request, type Response } from "express";
import { Passport, type PassportStatic } from "passport";
import { Strategy as GitHubStrategy, type Profile } from "passport-github2";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { loginGithubUser, type SessionUser } from "../../domain/auth/login-github-user.js";
import { consumeLoginLink } from "../../domain/auth/login-links.js";
import { loadSessionUser } from "../../domain/auth/session-user.js";
import { renderPage } from "../render.js";
import { sharedRead } from "../shared-read.js";
import { GithubLoginState } from "../github-login-state.js";
import { safeReturnPath } from "../return-path.js";

/** One Passport per app: the module's singleton would chain the deserializers of every app made in a process. */
export function createPassport(deps: Deps, publicUrl: string): PassportStatic {
  const passport = new Passport() as PassportStatic;
  passport.serializeUser((user, done) => done(null, (user as SessionUser).id));
  // Read once per SIDEBAR_CACHE_MS per user and shared by that user's requests: a role change or a
  // deactivation takes effect within that time and that of the read that sees it (shared-read.ts).
  // Read per request, it was a sixth of the fleet home's CPU (bench/README.md, issue 17).
  const loadUser = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, (id: number) => loadSessionUser(deps, id));
  passport.deserializeUser((id: number, done) => {
    loadUser(id).then((user) => done(null, user ?? false), (err) => done(err));
  });
  if (!deps.config.githubConfigured) return passport;
  const github = deps.config.GITHUB_URL.replace(/\/$/, "");
  passport.use(
    new GitHubStrategy(
      {
        clientID: deps.config.GITHUB_CLIENT_ID!,
        clientSecret: deps.config.GITHUB_CLIENT_SECRET!,
        callbackURL: `${publicUrl}/auth/github/callback`,
        authorizationURL: `${github}/login/oauth/authorize`,
        tokenURL: `${github}/login/oauth/access_token`,
        userProfileURL: `${deps.config.GITHUB_API_URL.replace(/\/$/, "")}/user`,
        scope: ["read:org"],
        // The callback must carry the state this browser was given (login CSRF).
        store: new GithubLoginState(),
      },
      (accessToken: string, _refresh: string, profile: Profile, done: (err: unknown, user?: SessionUser | false, info?: unknown) => void) => {
        const json = (profile as Profile & { _json?: { avatar_url?: string; name?: string } })._json ?? {};
        loginGithubUser(deps, {
          accessToken,
          profile: { login: profile.username ?? "", name: json.name ?? profile.displayName ?? "", avatarUrl: json.avatar_url ?? "" },
        })
          .then((user) => done(null, user))
          .catch((err) => (err instanceof AppError && err.code === "forbidden" ? done(null, false, { message: err.message }) : done(err)));
      },
    ),
  );
  return passport;
}

/**
 * Logs the user in and sends them where they were going. passport's req.login gives the session a
 * fresh id and drops what it held (session fixation), so where to return to is read before it.
 */
function logInAndReturn(req: Request, res: Response, next: NextFunction, user: SessionUser): void {
  const to = safeReturnPath(req.session.returnTo);
  req.login(user, (err) => (err ? next(err) : res.redirect(to ?? "/")));
}

/** Remembers `?next=` (a path on this console, else nothing) as where the login returns to. */
function rememberNext(req: Request): void {
  const next = safeReturnPath(req.query.next);
  if (next) req.session.returnTo = next;
}

export function authRoutes(deps: Deps, passport: PassportStatic): Router {
  const router = Router();

  router.get("/login", async (req, res) => {
    const next = safeReturnPath(req.query.next);
    if (req.user) return res.redirect(next ?? "/");
    await renderPage(res, "auth/login", {
      title: "Log in", githubConfigured: deps.config.githubConfigured, org: deps.config.GITHUB_ORG ?? "",
      githubHref: next ? `/auth/github?next=${encodeURIComponent(next)}` : "/auth/github",
    });
  });

  router.get("/login/:token", async (req, res, next) => {
    rememberNext(req);
    const user = await consumeLoginLink(deps, String(req.params.token));
    logInAndReturn(req, res, next, user);
  });

  router.get("/auth/github", (req, res, next) => {
    if (!deps.config.githubConfigured) return next(new AppError("not_found", "GitHub login is not configured on this console."));
    rememberNext(req);
    passport.authenticate("github")(req, res, next);
  });

  router.get("/auth/github/callback", (req: Request, res: Response, next: NextFunction) => {
    if (!deps.config.githubConfigured) return next(new AppError("not_found", "GitHub login is not configured on this console."));
    passport.authenticate("github", (err: unknown, user: SessionUser | false, info?: { message?: string }) => {
      if (isProfileRateLimited(err)) {
        return renderPage(res, "auth/refused", { title: "GitHub asks to wait", message: "GitHub asks this console to slow down (its rate limit): try logging in again in a minute." }, 503).catch(next);
      }
      if (err) return next(err);
      if (!user) {
        return renderPage(res, "auth/refused", { title: "Access refused", message: info?.message ?? "GitHub did not confirm who you are. Try again." }, 403).catch(next);
      }
      logInAndReturn(req, res, next, user);
    })(req, res, next);
  });

  router.post("/logout", (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy(() => res.redirect("/login"));
    });
  });

  return router;
}

/**
 * passport-github2 fetches the profile (`GET /user`) itself and wraps a failure in an
 * InternalOAuthError whose `oauthError` has GitHub's status and body, not its headers. A 429, or a
 * 403 whose message says "rate limit", is GitHub's rate limit (primary or secondary:
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit).
 */
function isProfileRateLimited(err: unknown): boolean {
  const oauth = (err as { oauthError?: { statusCode?: number; data?: unknown } } | null)?.oauthError;
  if (!oauth) return false;
  return oauth.statusCode === 429 || (oauth.statusCode === 403 && /rate limit/i.test(String(oauth.data ?? "")));
}
