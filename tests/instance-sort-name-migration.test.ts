// The migration that made sortName ignore accents as well as case: instances that exist before it get
// the new key, and the lists' index still serves their order (a real PostgreSQL database migrated up
// to the migration before, rows in the old shape, then the migration itself).
import { describe, expect, it } from "vitest";
import { useDatabaseBefore } from "./helpers/migration-db.js";

const SORT_NAME_MIGRATION = "20261203100000_instance_sort_name_accents";

describe(`migration ${SORT_NAME_MIGRATION}`, () => {
  const database = useDatabaseBefore(SORT_NAME_MIGRATION);

  it("recomputes the sort key of the instances already there, and new names get it too", async () => {
    const m = database();
    const insert = (name: string, slug: string) => m.insertInstance(name, slug);
    for (const [name, slug] of [["Zeta", "zeta"], ["Épsilon", "epsilon"], ["eta", "eta"], ["Delta", "delta"]]) await insert(name!, slug!);
    const order = async () => (await m.client.query(`SELECT name, "sortName" FROM "Instance" ORDER BY "sortName", id`)).rows;
    // Before: lowercased only, so "Épsilon" came after "Zeta".
    expect((await order()).map((r) => r.name)).toEqual(["Delta", "eta", "Zeta", "Épsilon"]);

    await m.apply(SORT_NAME_MIGRATION);
    await insert("ÉTÉ ñandú", "ete");
    expect(await order()).toEqual([
      { name: "Delta", sortName: "delta" },
      { name: "Épsilon", sortName: "epsilon" },
      { name: "eta", sortName: "eta" },
      { name: "ÉTÉ ñandú", sortName: "ete nandu" },
      { name: "Zeta", sortName: "zeta" },
    ]);
  });
});
