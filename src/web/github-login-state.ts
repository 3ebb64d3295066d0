// The OAuth `state` of a GitHub login, against login CSRF: without it, anyone could have a
// victim's browser open the callback with the attacker's own code and log the victim in as the
// attacker. GitHub sends the state back unchanged and says to abort when it does not match
// (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#2-users-are-redirected-back-to-your-site-by-github).
// passport-oauth2's own session store (`state: true`, lib/state/session.js) does the same, but
// answers with its own wording; this one gives the user a message they can act on, compares in
// constant time, and is used once.
import { timingSafeEqual } from "node:crypto";
import type { Request } from "express";
import type { Metadata, StateStore } from "passport-oauth2";
import { randomToken } from "../crypto.js";

declare module "express-session" {
  interface SessionData {
    githubLoginState?: string;
  }
}

export const FOREIGN_LOGIN_MESSAGE =
  "This login did not start from this console in this browser (or it was already used), so it was not accepted: " +
  "a link that logs you in as someone else looks like this. Log in again from the login page.";

type Stored = (err: Error | null, state?: string) => void;
type Verified = (err: Error | null, ok: boolean, info?: { message: string; reason: string }) => void;

/**
 * A passport-oauth2 state store. passport-oauth2 picks how to call each method by its arity: these
 * take (req, meta, callback) and (req, state, meta, callback), as its typings' overloads allow.
 */
export class GithubLoginState implements StateStore {
  store(req: Request, callback: Stored): void;
  store(req: Request, meta: Metadata, callback: Stored): void;
  store(req: Request, metaOrCallback: Metadata | Stored, callback?: Stored): void {
    const done = typeof metaOrCallback === "function" ? metaOrCallback : callback!;
    if (!req.session) return done(new Error("Sessions are not available."));
    req.session.githubLoginState = randomToken(24);
    done(null, req.session.githubLoginState);
  }

  verify(req: Request, state: string, callback: Verified): void;
  verify(req: Request, state: string, meta: Metadata, callback: Verified): void;
  verify(req: Request, state: string | undefined, metaOrCallback: Metadata | Verified, callback?: Verified): void {
    const done = typeof metaOrCallback === "function" ? metaOrCallback : callback!;
    const expected = req.session?.githubLoginState;
    if (req.session) delete req.session.githubLoginState;
    const ok = Boolean(expected && state && expected.length === state.length && timingSafeEqual(Buffer.from(expected), Buffer.from(state)));
    done(null, ok, ok ? undefined : { message: FOREIGN_LOGIN_MESSAGE, reason: "state" });
  }
}
