// The user behind a logged-in session, read on every request (a role change or a deactivation takes
// effect at once). Raw SQL read with pg (queryRows): Prisma 6 compiles each model query in Wasm on
// the event loop, ~1 ms of CPU for this lookup, and even its $queryRaw costs ~95 µs against ~20 µs.
import { queryRows } from "../../db.js";
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.ts";
import type { SessionUser } from "./login-github-user.js";

/** The active user with this id, or null (unknown or deactivated). */
export async function loadSessionUser(deps: Pick<Deps, "db">, id: number): Promise<SessionUser | null> {
  const rows = await queryRows<SessionUser & { isActive: boolean }>(deps.db, Prisma.sql`
    SELECT id, "githubLogin", name, "avatarUrl", role::text AS role, "isActive" FROM "User" WHERE id = ${id}`);
  const u = rows[0];
  return u?.isActive ? { id: u.id, githubLogin: u.githubLogin, name: u.name, avatarUrl: u.avatarUrl, role: u.role } : null;
}
