// A user's API tokens for the tokens page: what identifies each one, never its hash.
import type { Deps } from "../../deps.js";

export async function listApiTokens(deps: Pick<Deps, "db">, input: { userId: number }) {
  return deps.db.apiToken.findMany({
    where: { userId: input.userId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true },
  });
}
