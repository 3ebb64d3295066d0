// Per-user API tokens (Authorization: Bearer). Only a sha256 is stored; the token is shown once.
import { AppError } from "../../errors.js";
import type { Deps } from "../../deps.js";
import { randomToken, sha256 } from "../../crypto.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import type { SessionUser } from "./login-github-user.js";

export const TOKEN_PREFIX = "ocim_";
/** A token's name, at most this long (the tokens page's field says the same). */
export const TOKEN_NAME_MAX = 100;

export async function createApiToken(
  deps: Pick<Deps, "db">,
  input: { githubLogin: string; name?: string; actor: Actor },
): Promise<{ token: string; id: number }> {
  const name = (input.name ?? "").trim();
  if (name.length > TOKEN_NAME_MAX) throw new AppError("validation", "The token name is too long.", { fields: { name: `At most ${TOKEN_NAME_MAX} characters.` } });
  const user = await deps.db.user.findUnique({ where: { githubLogin: input.githubLogin.toLowerCase() } });
  if (!user) throw new AppError("not_found", `No user with GitHub login "${input.githubLogin}". They must log in once, or be made with \`ocim create-admin\`.`);
  if (!user.isActive) throw new AppError("conflict", `The user ${user.githubLogin} is deactivated.`);
  const token = TOKEN_PREFIX + randomToken();
  const created = await deps.db.$transaction(async (tx) => {
    const row = await tx.apiToken.create({
      data: { userId: user.id, name, tokenHash: sha256(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) },
    });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "api_token.created", subjectType: "User", subjectId: user.id,
      subjectName: user.githubLogin, after: { token: row.prefix + "…", name },
    });
    return row;
  });
  return { token, id: created.id };
}

/**
 * Deletes one of the user's own tokens; returns what identifies it, for the confirmation, or null
 * when the user has no such token: revoked already (a second tab, a double submit), or never theirs.
 */
export async function revokeApiToken(deps: Pick<Deps, "db">, input: { id: number; user: SessionUser }): Promise<{ prefix: string; name: string } | null> {
  return deps.db.$transaction(async (tx) => {
    const row = await tx.apiToken.findFirst({ where: { id: input.id, userId: input.user.id } });
    if (!row) return null;
    await tx.apiToken.delete({ where: { id: row.id } });
    await recordAuditEvent(tx, {
      actor: { id: input.user.id, login: input.user.githubLogin }, action: "api_token.revoked",
      subjectType: "User", subjectId: input.user.id, subjectName: input.user.githubLogin, before: { token: row.prefix + "…" },
    });
    return { prefix: row.prefix, name: row.name };
  });
}

const UNKNOWN_TOKEN = "This API token is unknown or has been revoked.";

/**
 * The token's user, or why it is refused. A deactivated user's token says so (whoever holds it
 * learns that much, not who the user is): "unknown or revoked" sent them looking for the wrong cause.
 */
export async function authenticateApiToken(deps: Pick<Deps, "db" | "now">, token: string): Promise<{ user: SessionUser } | { refused: string }> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return { refused: UNKNOWN_TOKEN };
  const row = await deps.db.apiToken.findUnique({ where: { tokenHash: sha256(token) }, include: { user: true } });
  if (!row) return { refused: UNKNOWN_TOKEN };
  if (!row.user.isActive) return { refused: "The user this API token belongs to has been deactivated, so the token is refused." };
  // lastUsedAt is informative; one write a minute per token is plenty.
  if (!row.lastUsedAt || deps.now().getTime() - row.lastUsedAt.getTime() > 60_000) {
    await deps.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: deps.now() } });
  }
  const u = row.user;
  return { user: { id: u.id, githubLogin: u.githubLogin, name: u.name, avatarUrl: u.avatarUrl, role: u.role } };
}
