// Stops watching repositories. Their sandboxes stay (as instances without a watched repository):
// an admin archives or deletes them like any instance.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

export async function deleteWatchedRepository(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    const repos = await tx.watchedRepository.findMany({ where: { id: { in: ids } }, select: { id: true, owner: true, name: true } });
    if (!ids.length || repos.length !== ids.length) throw notFound(ids.length > 1 ? "One of the watched repositories" : "Watched repository");
    await tx.watchedRepository.deleteMany({ where: { id: { in: ids } } });
    for (const r of repos) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "watched_repository.deleted", subjectType: "WatchedRepository", subjectId: r.id,
        subjectName: `${r.owner}/${r.name}`, before: { owner: r.owner, name: r.name },
      });
    }
    return { deleted: repos.length };
  });
}
