// The migration that made the instance search ignore accents as well as case: instances that exist
// before it get the folded search text, and new ones too (a real PostgreSQL database migrated up to
// the migration before, rows in the old shape, then the migration itself).
import { describe, expect, it } from "vitest";
import { useDatabaseBefore } from "./helpers/migration-db.js";

const SEARCH_MIGRATION = "20261203120000_instance_search_accents";

describe(`migration ${SEARCH_MIGRATION}`, () => {
  const database = useDatabaseBefore(SEARCH_MIGRATION);

  it("folds the search text of the instances already there, and of new ones", async () => {
    const m = database();
    const insert = (name: string, slug: string) => m.insertInstance(name, slug);
    const found = async (q: string) => (await m.client.query(`SELECT name FROM "Instance" WHERE "searchText" LIKE "Instance_sortName"($1) ORDER BY id`, [`%${q}%`])).rows.map((r) => r.name);
    await insert("Épsilon", "epsilon");
    // Before: lower() alone, which kept the É on a database without a locale.
    expect((await m.client.query(`SELECT "searchText" FROM "Instance"`)).rows[0].searchText.split("\n")[0]).toBe("Épsilon");

    await m.apply(SEARCH_MIGRATION);
    await insert("ÉTÉ Ñandú", "ete");
    expect(await found("ÉPSILON")).toEqual(["Épsilon"]);
    expect(await found("epsilon")).toEqual(["Épsilon"]);
    expect(await found("ete nandu")).toEqual(["ÉTÉ Ñandú"]);
    expect(await found("studio.ete")).toEqual(["ÉTÉ Ñandú"]);
  });
});
