// One-time login links for a local admin when no GitHub app is configured (like a notebook token).
import { AppError } from "../../errors.js";
import type { Deps } from "../../deps.js";
import { randomToken, sha256 } from "../../crypto.js";
import type { SessionUser } from "./login-github-user.js";

export const LOCAL_ADMIN_LOGIN = "local-admin";

/** Makes (or reuses) the local admin and returns a fresh one-time token for it. */
export async function createLoginLink(deps: Pick<Deps, "db" | "config" | "now">, login = LOCAL_ADMIN_LOGIN): Promise<string> {
  if (deps.config.NODE_ENV === "production") {
    throw new AppError("forbidden", "One-time login links are off in production; configure the GitHub app.");
  }
  const token = randomToken();
  const expiresAt = new Date(deps.now().getTime() + deps.config.LOGIN_LINK_MINUTES * 60_000);
  await deps.db.$transaction(async (tx) => {
    const user = await tx.user.upsert({
      where: { githubLogin: login },
      create: { githubLogin: login, name: "Local admin", role: "admin" },
      update: {},
    });
    await tx.loginLink.create({ data: { tokenHash: sha256(token), userId: user.id, expiresAt } });
  });
  return token;
}

export async function consumeLoginLink(deps: Pick<Deps, "db" | "now">, token: string): Promise<SessionUser> {
  const now = deps.now();
  return deps.db.$transaction(async (tx) => {
    // Compare-and-set on usedAt, so a link logs in once even when opened twice at the same moment.
    const used = await tx.loginLink.updateMany({
      where: { tokenHash: sha256(token), usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
    });
    if (used.count !== 1) {
      throw new AppError("unauthenticated", "This login link is unknown, expired or already used. Restart the console (or run `npx ocim login-link`) for a new one.");
    }
    const link = await tx.loginLink.findUniqueOrThrow({ where: { tokenHash: sha256(token) } });
    const user = await tx.user.update({ where: { id: link.userId }, data: { lastLoginAt: now } });
    if (!user.isActive) throw new AppError("forbidden", `The account ${user.githubLogin} has been deactivated.`);
    return { id: user.id, githubLogin: user.githubLogin, name: user.name, avatarUrl: user.avatarUrl, role: user.role };
  });
}
