-- The instance lists count their instances again (an index-only scan), instead of reading a row
-- that triggers kept: measured side by side with the Django anchor (bench/README.md, issue 17),
-- the lists meet their goal without it, and one less thing keeps state behind the application.
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
