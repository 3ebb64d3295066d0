// `ocim create-admin`: makes a GitHub login an admin, creating the user when it has never logged
// in (it still needs GitHub, and membership of GITHUB_ORG, to log in).
import { AppError } from "../../errors.js";
import type { Deps } from "../../deps.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

/** GitHub's rule: letters, digits and single hyphens inside, at most 39 characters. */
export const GITHUB_LOGIN_RE = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$/i;

export type MakeAdminOutcome = "created" | "promoted" | "reactivated" | "unchanged";

export async function makeAdmin(
  deps: Pick<Deps, "db">,
  input: { githubLogin: string; actor: Actor },
): Promise<{ githubLogin: string; outcome: MakeAdminOutcome }> {
  const login = input.githubLogin.trim().toLowerCase();
  if (!GITHUB_LOGIN_RE.test(login)) {
    throw new AppError("validation", `"${input.githubLogin}" is not a GitHub login: use letters, digits and single hyphens (not at the start or end), at most 39 characters.`);
  }
  return deps.db.$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { githubLogin: login }, select: { role: true, isActive: true } });
    if (before?.role === "admin" && before.isActive) return { githubLogin: login, outcome: "unchanged" as const };
    const user = await tx.user.upsert({
      where: { githubLogin: login },
      create: { githubLogin: login, role: "admin" },
      update: { role: "admin", isActive: true },
    });
    await recordAuditEvent(tx, {
      actor: input.actor, action: before ? "user.made_admin" : "user.created", subjectType: "User", subjectId: user.id,
      subjectName: login, before, after: { role: user.role, isActive: user.isActive },
    });
    const outcome = !before ? "created" : before.isActive ? "promoted" : "reactivated";
    return { githubLogin: login, outcome };
  });
}
