-- The instance lists count their instances again (an index-only scan over 10,000 rows, about a
-- millisecond of PostgreSQL), instead of reading a row that triggers kept: one less thing that
-- keeps state behind the application (issue 17, figures in bench/README.md).
DROP TRIGGER "Instance_countInserted" ON "Instance";
DROP TRIGGER "Instance_countDeleted" ON "Instance";
DROP TRIGGER "Instance_countUpdated" ON "Instance";
DROP TRIGGER "Instance_countTruncated" ON "Instance";
DROP FUNCTION "Instance_countInserted"();
DROP FUNCTION "Instance_countDeleted"();
DROP FUNCTION "Instance_countUpdated"();
DROP FUNCTION "Instance_countTruncated"();

-- DropTable
DROP TABLE "InstanceCount";
