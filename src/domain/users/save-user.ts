// Creates a user ahead of their first GitHub login (to give them a role), or changes one. An admin
// cannot take away their own admin role or deactivate themselves: the console could be left
// without an admin, and the mistake could not be undone from the admin area.
import type { Deps } from "../../deps.js";
import type { User } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";

export const USER_FIELDS = ["githubLogin", "name", "role", "isActive"] as const;
const ROLES = ["admin", "operator"] as const;
const GITHUB_LOGIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,38})$/;

export interface SaveUserInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

function readUser(values: Input, isSelf: boolean) {
  const r = new FieldReader(values, USER_FIELDS);
  const githubLogin = r.text("githubLogin", { required: true, max: 39, lower: true });
  if (githubLogin && !GITHUB_LOGIN_RE.test(githubLogin)) r.fail("githubLogin", "Enter a GitHub login: letters, digits and -, not starting with -.");
  const name = r.text("name", { max: 100 });
  const role = r.choice("role", ROLES, "operator") ?? "operator";
  const isActive = r.bool("isActive");
  if (isSelf && role !== "admin") r.fail("role", "You cannot take away your own admin role; ask another admin to do it.");
  if (isSelf && !isActive) r.fail("isActive", "You cannot deactivate yourself; ask another admin to do it.");
  if (!r.ok) throw validationError(r.errors);
  return { githubLogin, name, role, isActive };
}

function auditView(user: Pick<User, (typeof USER_FIELDS)[number]>): Record<string, unknown> {
  return { githubLogin: user.githubLogin, name: user.name, role: user.role, isActive: user.isActive };
}

export async function saveUser(deps: Pick<Deps, "db">, input: SaveUserInput): Promise<User> {
  const data = readUser(input.values, input.id !== undefined && input.id === input.actor.id);
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.user.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("User");
      if (before && !Object.keys(diffRecords(auditView(before), data)).length) return before;
      const after = before ? await tx.user.update({ where: { id: before.id }, data }) : await tx.user.create({ data });
      await recordAuditEvent(tx, {
        actor: input.actor, action: before ? "user.updated" : "user.created", subjectType: "User",
        subjectId: after.id, subjectName: after.githubLogin, before: before && auditView(before), after: auditView(after),
      });
      return after;
    });
  } catch (err) {
    rethrowUniqueViolation(err, { githubLogin: "A user with this GitHub login already exists." });
  }
}
