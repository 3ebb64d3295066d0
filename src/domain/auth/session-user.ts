// The user behind a logged-in session, read on every request (a role change or a deactivation takes
// effect at once). Raw SQL: Prisma 6 compiles each model query in Wasm on the event loop, and for
// this lookup that was ~1 ms of CPU against ~0.45 ms for the same query raw (measured, bench/pages).
import type { Deps } from "../../deps.js";
import type { SessionUser } from "./login-github-user.js";

/** The active user with this id, or null (unknown or deactivated). */
export async function loadSessionUser(deps: Pick<Deps, "db">, id: number): Promise<SessionUser | null> {
  const rows = await deps.db.$queryRaw<(SessionUser & { isActive: boolean })[]>`
    SELECT id, "githubLogin", name, "avatarUrl", role::text AS role, "isActive" FROM "User" WHERE id = ${id}`;
  const u = rows[0];
  return u?.isActive ? { id: u.id, githubLogin: u.githubLogin, name: u.name, avatarUrl: u.avatarUrl, role: u.role } : null;
}
