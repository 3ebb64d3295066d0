// The migrations as `prisma migrate deploy` reads them. Prisma's schema engine, as Ocim runs it (the
// Wasm engine over adapter-pg, prisma.config.ts), cut a migration into statements at every ";",
// comments included: a comment saying "…for a sandbox); empty where…" failed the whole deploy with
// `syntax error at or near "empty"`, far from its cause. This says where instead.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const MIGRATIONS = path.resolve(import.meta.dirname, "../prisma/migrations");

describe("the migrations", () => {
  it("have no ';' in a comment", () => {
    const folders = readdirSync(MIGRATIONS).filter((f) => /^\d{14}_/.test(f));
    expect(folders.length).toBeGreaterThan(20);
    const found = folders.flatMap((folder) =>
      readFileSync(path.join(MIGRATIONS, folder, "migration.sql"), "utf8").split("\n").flatMap((line, i) => {
        const comment = line.indexOf("--");
        return comment >= 0 && line.slice(comment).includes(";") ? [`${folder}/migration.sql:${i + 1}: ${line.trim()}`] : [];
      }));
    expect(found).toEqual([]);
  });
});
