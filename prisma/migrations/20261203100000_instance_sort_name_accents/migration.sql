-- The instance lists sort by name ignoring accents as well as case: "épsilon" beside "epsilon",
-- between "Delta" and "eta", not after "Zeta" (lower(name) kept the é, whose bytes come after z).
-- The name in Unicode's decomposed form (NFD: é is e then a combining accent), the combining marks
-- removed, then lowercased. Accents come off first because the embedded database has no locale
-- (initdb --no-locale): its lower() changes only A to Z, so É must become E before it. Letters with
-- no decomposition (æ, ø, ł) and non-Latin scripts keep their case there. A database with a UTF-8
-- locale lowercases them too. No semicolon inside the function body: Prisma's migration runner splits
-- a script at every semicolon, even inside $$.
CREATE FUNCTION "Instance_sortName"(name text)
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(regexp_replace(normalize(name, NFD), '[\u0300-\u036f]', '', 'g')) $$;

-- PostgreSQL 15 cannot change a generated column's expression (17 can, SET EXPRESSION): drop it with
-- its two indexes and add it back, which computes it for every existing instance, then index it again.
ALTER TABLE "Instance" DROP COLUMN "sortName";

ALTER TABLE "Instance" ADD COLUMN "sortName" TEXT GENERATED ALWAYS AS ("Instance_sortName"(name)) STORED;

CREATE INDEX "Instance_isArchived_sortName_id_idx" ON "Instance"("isArchived", "sortName", "id");

CREATE INDEX "Instance_sortName_id_idx" ON "Instance"("sortName", "id");
