// An admin asks to see an instance's settings unmasked (docs/security.md). Every reveal is
// audited, without the values: the event says who looked, and when.
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import type { SessionUser } from "../auth/login-github-user.js";
import { maySeeSecrets } from "../auth/may-see.js";
import { recordAuditEvent } from "../audit/record-audit-event.js";

export async function revealInstanceSecrets(deps: Pick<Deps, "db">, input: { id: number; user: SessionUser }) {
  if (!maySeeSecrets(input.user)) throw new AppError("forbidden", "Only admins may reveal an instance's secrets.");
  return deps.db.$transaction(async (tx) => {
    const instance = await tx.instance.findUnique({ where: { id: input.id }, select: { name: true, extraAnsibleVars: true, bootstrapCommand: true } });
    if (!instance) throw notFound("Instance");
    await recordAuditEvent(tx, {
      actor: { id: input.user.id, login: input.user.githubLogin }, action: "instance.secrets_revealed",
      subjectType: "Instance", subjectId: input.id, subjectName: instance.name,
      after: { revealed: "extra ansible variables, bootstrap command" },
    });
    return { extraVariables: instance.extraAnsibleVars, bootstrapCommand: instance.bootstrapCommand };
  });
}
