// Deletes data services that hold no instance's data; one that does is refused, naming the instances.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { dataServiceUsers, inUseMessage } from "./data-service-usage.js";

export async function deleteDataService(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    const services = await tx.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, kind: true } });
    if (!ids.length || services.length !== ids.length) throw notFound(ids.length > 1 ? "One of the data services" : "Data service");
    for (const s of services) {
      const users = await dataServiceUsers(tx, s.id);
      if (users.length) throw new AppError("rule", `The data service "${s.name}" cannot be deleted. ${inUseMessage(users)}`);
    }
    await tx.dataService.deleteMany({ where: { id: { in: ids } } });
    for (const s of services) {
      await recordAuditEvent(tx, { actor: input.actor, action: "data_service.deleted", subjectType: "DataService", subjectId: s.id, subjectName: s.name, before: { name: s.name, kind: s.kind } });
    }
    return { deleted: services.length };
  });
}
