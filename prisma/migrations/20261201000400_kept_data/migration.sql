-- When an instance is deleted and its data kept, the resources it leaves behind say since when
-- (the admin's "Kept data" list). Null while an instance owns them.

-- AlterTable
ALTER TABLE "InstanceDataResource" ADD COLUMN "keptSince" TIMESTAMP(3);
