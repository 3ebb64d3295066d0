// Deletes users with their API tokens and login links. Their audit events and the appservers they
// launched stay (the login is kept on the events). Nobody can delete themselves.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

export async function deleteUser(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  if (input.actor.id !== null && ids.includes(input.actor.id)) {
    throw new AppError("rule", "You cannot delete your own account; ask another admin. Nothing was deleted.");
  }
  return deps.db.$transaction(async (tx) => {
    const users = await tx.user.findMany({ where: { id: { in: ids } }, select: { id: true, githubLogin: true, role: true } });
    if (!ids.length || users.length !== ids.length) throw notFound(ids.length > 1 ? "One of the users" : "User");
    await tx.loginLink.deleteMany({ where: { userId: { in: ids } } });
    await tx.user.deleteMany({ where: { id: { in: ids } } });
    for (const u of users) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "user.deleted", subjectType: "User", subjectId: u.id,
        subjectName: u.githubLogin, before: { githubLogin: u.githubLogin, role: u.role },
      });
    }
    return { deleted: users.length };
  });
}
