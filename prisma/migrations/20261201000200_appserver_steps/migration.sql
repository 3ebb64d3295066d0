-- Provisioning as named, recorded steps (src/domain/provisioning/steps.ts) instead of one cursor
-- string on AppServer: the start and end of each step, written with the injected clock.

-- CreateEnum
CREATE TYPE "AppServerStepOutcome" AS ENUM ('done', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "AppServerStep" (
    "id" SERIAL NOT NULL,
    "appServerId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),
    "outcome" "AppServerStepOutcome",

    CONSTRAINT "AppServerStep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AppServerStep_appServerId_name_key" ON "AppServerStep"("appServerId", "name");
CREATE INDEX "AppServerStep_appServerId_position_idx" ON "AppServerStep"("appServerId", "position");

-- AddForeignKey
ALTER TABLE "AppServerStep" ADD CONSTRAINT "AppServerStep_appServerId_fkey" FOREIGN KEY ("appServerId") REFERENCES "AppServer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- An appserver provisioning during the upgrade resumes where its cursor and status said it was:
-- one row for its current step, started when its status last changed (the closest time recorded).
-- The steps before it have no row (their times were never stored): the runner counts them as done.
--   waiting, no VM id yet          -> create-vm (position 1), re-run: it finds the VM by name
--   waiting, VM id known           -> wait-vm (2)
--   configuring, no cursor         -> upload-vars (3): upload, clone and start are idempotent
--   configuring, playbook-started  -> tail (6): re-attaches at the stored byte offset
INSERT INTO "AppServerStep" ("appServerId", "name", "position", "startedAt")
SELECT "id",
       CASE WHEN "status" = 'waiting' AND "providerServerId" IS NULL THEN 'create-vm'
            WHEN "status" = 'waiting' THEN 'wait-vm'
            WHEN "stepCursor" = 'playbook-started' THEN 'tail'
            ELSE 'upload-vars' END,
       CASE WHEN "status" = 'waiting' AND "providerServerId" IS NULL THEN 1
            WHEN "status" = 'waiting' THEN 2
            WHEN "stepCursor" = 'playbook-started' THEN 6
            ELSE 3 END,
       "statusChangedAt"
FROM "AppServer"
WHERE "status" IN ('waiting', 'configuring');

-- AlterTable
ALTER TABLE "AppServer" DROP COLUMN "stepCursor";
