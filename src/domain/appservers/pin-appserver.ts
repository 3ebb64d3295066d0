// An operator pins an appserver so cleanup keeps it (or unpins it), audited.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

export async function pinAppServer(deps: Pick<Deps, "db">, input: { appServerId: number; pinned: boolean; actor: Actor }): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    const as = await tx.appServer.findUnique({ where: { id: input.appServerId }, select: { name: true, isPinned: true, instance: { select: { name: true } } } });
    if (!as) throw notFound("AppServer");
    if (as.isPinned === input.pinned) return;
    await tx.appServer.update({ where: { id: input.appServerId }, data: { isPinned: input.pinned } });
    await recordAuditEvent(tx, {
      actor: input.actor, action: input.pinned ? "appserver.pinned" : "appserver.unpinned", subjectType: "AppServer",
      subjectId: input.appServerId, subjectName: `${as.instance.name} / ${as.name}`, before: { isPinned: as.isPinned }, after: { isPinned: input.pinned },
    });
  });
}
