// Deletes provider accounts (their encrypted credentials go with them).
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";

export async function deleteProviderAccount(deps: Pick<Deps, "db">, input: { actor: Actor; ids: number[] }): Promise<{ deleted: number }> {
  const ids = [...new Set(input.ids)];
  return deps.db.$transaction(async (tx) => {
    const accounts = await tx.providerAccount.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, kind: true } });
    if (!ids.length || accounts.length !== ids.length) throw notFound(ids.length > 1 ? "One of the provider accounts" : "Provider account");
    await tx.providerAccount.deleteMany({ where: { id: { in: ids } } });
    for (const a of accounts) {
      await recordAuditEvent(tx, {
        actor: input.actor, action: "provider_account.deleted", subjectType: "ProviderAccount", subjectId: a.id,
        subjectName: a.name, before: { name: a.name, kind: a.kind },
      });
    }
    return { deleted: accounts.length };
  });
}
