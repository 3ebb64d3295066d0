-- How many instances there are, and how many are archived, kept by triggers on Instance. The
-- instance lists showed an exact total on every page view by counting every instance (an
-- index-only scan of all of them: half of the database's time for the admin's instance list at
-- 10,000 instances, bench/pages). Lists with a filter or a search still count their matches.
-- Statement-level triggers with transition tables: a bulk insert or delete updates the row once.
-- Whoever writes the instances (the console, a script, a seed), the row follows. Concurrent
-- writers queue on its row lock, and each adds its own difference to the latest value.
--
-- No semicolon may appear in this file except between statements: Prisma's migration runner
-- splits a script at every one, even inside quotes. Each function body is therefore an escape
-- string in which \073 stands for each semicolon.

-- CreateTable
CREATE TABLE "InstanceCount" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "total" INTEGER NOT NULL,
    "archived" INTEGER NOT NULL,

    CONSTRAINT "InstanceCount_pkey" PRIMARY KEY ("id")
);

CREATE FUNCTION "Instance_countInserted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE "InstanceCount" SET total = total + (SELECT count(*) FROM new_rows),
    archived = archived + (SELECT count(*) FROM new_rows WHERE "isArchived") WHERE id = 1\073
  RETURN NULL\073
END';

CREATE FUNCTION "Instance_countDeleted"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE "InstanceCount" SET total = total - (SELECT count(*) FROM old_rows),
    archived = archived - (SELECT count(*) FROM old_rows WHERE "isArchived") WHERE id = 1\073
  RETURN NULL\073
END';

-- Most updates leave isArchived alone: they touch no row here.
CREATE FUNCTION "Instance_countUpdated"() RETURNS trigger LANGUAGE plpgsql AS E'
DECLARE
  delta integer\073
BEGIN
  delta := (SELECT count(*) FROM new_rows WHERE "isArchived") - (SELECT count(*) FROM old_rows WHERE "isArchived")\073
  IF delta <> 0 THEN
    UPDATE "InstanceCount" SET archived = archived + delta WHERE id = 1\073
  END IF\073
  RETURN NULL\073
END';

CREATE FUNCTION "Instance_countTruncated"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE "InstanceCount" SET total = 0, archived = 0 WHERE id = 1\073
  RETURN NULL\073
END';

CREATE TRIGGER "Instance_countInserted" AFTER INSERT ON "Instance"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Instance_countInserted"();
CREATE TRIGGER "Instance_countDeleted" AFTER DELETE ON "Instance"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Instance_countDeleted"();
CREATE TRIGGER "Instance_countUpdated" AFTER UPDATE ON "Instance"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Instance_countUpdated"();
CREATE TRIGGER "Instance_countTruncated" AFTER TRUNCATE ON "Instance"
  FOR EACH STATEMENT EXECUTE FUNCTION "Instance_countTruncated"();

INSERT INTO "InstanceCount" (id, total, archived)
  SELECT 1, count(*), count(*) FILTER (WHERE "isArchived") FROM "Instance";
