-- The console's search: the lowercased name and every domain of an instance in one column that
-- PostgreSQL computes itself (a generated column: right whoever writes the row, the app, the CLI or
-- a seed in raw SQL), and a trigram index that serves `LIKE '%…%'` on it. Before this, a search
-- lowercased eight columns of every instance.
-- One line per value, so a match never spans two of them. No semicolon inside the function body:
-- Prisma's migration runner splits a script at every semicolon, even inside $$.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION "Instance_searchText"(name text, lms text, studio text, preview text, ecommerce text, discovery text, apps text, external text[])
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT lower(concat_ws(E'\n', name, lms, studio, preview, ecommerce, discovery, apps, array_to_string(external, E'\n'))) $$;

-- AlterTable
ALTER TABLE "Instance" ADD COLUMN "searchText" TEXT GENERATED ALWAYS AS ("Instance_searchText"(
  name, "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain", "discoveryDomain", "appsDomain", "externalDomains")) STORED;

-- CreateIndex
CREATE INDEX "Instance_searchText_idx" ON "Instance" USING GIN ("searchText" gin_trgm_ops);
