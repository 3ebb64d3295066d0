// Users in the admin: role and active flag. Users are normally made at their first GitHub login;
// adding one here gives a role ahead of it.
import type { Prisma } from "../../../db.js";
import { saveUser } from "../../../domain/users/save-user.js";
import { deleteUser } from "../../../domain/users/delete-user.js";
import { defineModel } from "../types.js";
import { choiceFilter, plural, yesNoFilter } from "./common.js";

const listSelect = { id: true, githubLogin: true, name: true, role: true, isActive: true, lastLoginAt: true } as const;
type Row = Prisma.UserGetPayload<{ select: typeof listSelect }>;

export const userAdmin = defineModel<Row>({
  slug: "users",
  name: "User",
  plural: "Users",
  description: "Who may use the console, and who is an admin.",
  subjectType: "User",
  titleOf: (row) => row.githubLogin,
  list: {
    columns: [
      { label: "GitHub login", sort: "githubLogin", cell: (r) => ({ text: r.githubLogin, href: `/admin/users/${r.id}` }) },
      { label: "Name", sort: "name", cell: (r) => r.name || null },
      { label: "Role", sort: "role", cell: (r) => ({ text: r.role, badge: r.role === "admin" ? "admin" : undefined }) },
      { label: "Active", sort: "isActive", cell: (r) => r.isActive },
      { label: "Last login", sort: "lastLoginAt", cell: (r) => r.lastLoginAt },
    ],
    search: { fields: ["githubLogin", "name"], hint: "login or name" },
    filters: [choiceFilter("role", "Role", "role", ["admin", "operator"]), yesNoFilter("active", "Active", (v) => ({ isActive: v }))],
    defaultOrder: "githubLogin",
    fetch: (db, args) => db.user.findMany({ ...(args as Prisma.UserFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.user.count({ where: where as Prisma.UserWhereInput }),
  },
  form: {
    sections: [
      {
        title: "User",
        fields: [
          { name: "githubLogin", label: "GitHub login", kind: "text", required: true, maxLength: 39, mono: true },
          { name: "name", label: "Name", kind: "text", maxLength: 100 },
          { name: "role", label: "Role", kind: "select", options: () => [{ value: "operator", label: "operator (the console)" }, { value: "admin", label: "admin (the console and this admin area)" }] },
          { name: "isActive", label: "Active", kind: "checkbox", help: "A deactivated user cannot log in, even while in the GitHub organization." },
        ],
      },
    ],
    initial: () => ({ role: "operator", isActive: "true" }),
    async load(deps, id) {
      const u = await deps.db.user.findUnique({ where: { id }, include: { _count: { select: { apiTokens: true } } } });
      if (!u) return null;
      return {
        title: u.githubLogin,
        values: { githubLogin: u.githubLogin, name: u.name, role: u.role, isActive: String(u.isActive) },
        readOnly: [
          { label: "Last login", value: u.lastLoginAt },
          { label: "API tokens", value: u._count.apiTokens },
          { label: "Created", value: u.createdAt },
        ],
      };
    },
    async save(deps, actor, id, values) {
      const user = await saveUser(deps, { actor, id, values });
      return { id: user.id, title: user.githubLogin };
    },
  },
  remove: {
    async impact(deps, actor, ids) {
      const rows = await deps.db.user.findMany({
        where: { id: { in: ids } },
        select: { id: true, githubLogin: true, _count: { select: { apiTokens: true, auditEvents: true } } },
        orderBy: { githubLogin: "asc" },
      });
      return rows.map((r) => ({
        id: r.id,
        title: r.githubLogin,
        consequences: [
          `${plural(r._count.apiTokens, "API token")} revoked.`,
          `${plural(r._count.auditEvents, "audit event")} kept, with the login.`,
          "To keep the account but stop its access, deactivate it instead.",
        ],
        blocker: r.id === actor.id ? "This is your own account; another admin must delete it." : undefined,
      }));
    },
    run: (deps, actor, ids) => deleteUser(deps, { actor, ids }),
  },
});
