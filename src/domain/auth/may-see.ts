// Who may see what. Today every active console user may see every instance and appserver
// (DESIGN §12: the console is for the members of one GitHub organization). Every place that
// shows an appserver's log or status asks here, so tightening the rule is a change to this file.
import type { SessionUser } from "./login-github-user.js";

/** A SessionUser only exists for an active user: the session, API-token and socket loaders all
 *  refuse deactivated ones, so "logged in" already means "active" here. */
export function maySeeAppServer(user: SessionUser | null | undefined, _appServer: { id: number; instanceId: number }): boolean {
  return Boolean(user);
}

export function maySeeInstance(user: SessionUser | null | undefined, _instance: { id: number }): boolean {
  return Boolean(user);
}

/** Secrets (the basic-auth password of the authenticated link, unmasked variables) are for admins. */
export function maySeeSecrets(user: SessionUser | null | undefined): boolean {
  return user?.role === "admin";
}
