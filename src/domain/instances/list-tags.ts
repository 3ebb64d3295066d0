// The tags in use across instances, for the admin's tag filter and the roll-out form's choice.
import type { Deps } from "../../deps.js";

/** At most this many, alphabetically: beyond that a person types the tag in a search. */
export const TAG_CHOICES = 200;

export async function listTags(deps: Pick<Deps, "db">): Promise<string[]> {
  const rows = await deps.db.$queryRaw<{ tag: string }[]>`SELECT DISTINCT unnest(tags) AS tag FROM "Instance" ORDER BY 1 LIMIT ${TAG_CHOICES}`;
  return rows.map((r) => r.tag);
}
