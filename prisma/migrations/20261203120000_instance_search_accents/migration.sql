-- The console's and the admin's search ignore accents as well as case, as the lists' order does
-- (20261203100000_instance_sort_name_accents): "ÉPSILON", "épsilon" and "epsilon" all find
-- "Épsilon". Before, searchText was lower() alone, which on the embedded database (initdb
-- --no-locale) changes only A to Z: "ÉPSILON" found nothing. The text is folded by the sort key's
-- function (NFD, combining marks removed, lowercased), and so is the query (list-instances.ts,
-- searchCondition). No semicolon inside the function body: Prisma's migration runner splits a script
-- at every semicolon, even inside $$.

-- PostgreSQL 15 cannot change a generated column's expression (17 can, SET EXPRESSION): drop it with
-- its index, change the function, add the column back (computed for every existing instance), index it.
ALTER TABLE "Instance" DROP COLUMN "searchText";

CREATE OR REPLACE FUNCTION "Instance_searchText"(name text, lms text, studio text, preview text, ecommerce text, discovery text, apps text, external text[])
  RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT "Instance_sortName"(concat_ws(E'\n', name, lms, studio, preview, ecommerce, discovery, apps, array_to_string(external, E'\n'))) $$;

ALTER TABLE "Instance" ADD COLUMN "searchText" TEXT GENERATED ALWAYS AS ("Instance_searchText"(
  name, "internalLmsDomain", "studioDomain", "previewDomain", "ecommerceDomain", "discoveryDomain", "appsDomain", "externalDomains")) STORED;

CREATE INDEX "Instance_searchText_idx" ON "Instance" USING GIN ("searchText" gin_trgm_ops);
