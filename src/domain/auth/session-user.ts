// The user behind a logged-in session, read for every request (shared for SIDEBAR_CACHE_MS by the
// web role: routes/auth.ts). $queryRaw, not findUnique: Prisma 6 compiles every call in Wasm on the
// event loop, and a model query's plan costs more (in-process, 0.35 ms of CPU for this read against
// 0.8–1.4 ms for a findUnique of one row; bench/README.md).
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.ts";
import type { SessionUser } from "./login-github-user.js";

/** The active user with this id, or null (unknown or deactivated). */
export async function loadSessionUser(deps: Pick<Deps, "db">, id: number): Promise<SessionUser | null> {
  const rows = await deps.db.$queryRaw<(SessionUser & { isActive: boolean })[]>(Prisma.sql`
    SELECT id, "githubLogin", name, "avatarUrl", role::text AS role, "isActive" FROM "User" WHERE id = ${id}`);
  const u = rows[0];
  return u?.isActive ? { id: u.id, githubLogin: u.githubLogin, name: u.name, avatarUrl: u.avatarUrl, role: u.role } : null;
}
