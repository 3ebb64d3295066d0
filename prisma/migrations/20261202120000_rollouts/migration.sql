-- Release roll-outs (issue 18, docs/rollouts.md): instances relaunched in waves, tracked per
-- instance, so the worker's job moves a roll-out on from what is stored here after any restart.
-- Instances get free tags, which the roll-out form filters by.
CREATE TYPE "RolloutStatus" AS ENUM ('running', 'paused', 'cancelled', 'done');

CREATE TYPE "RolloutItemStatus" AS ENUM ('pending', 'launching', 'activating', 'done', 'failed', 'skipped');

ALTER TABLE "Instance" ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::TEXT[];

CREATE INDEX "Instance_tags_idx" ON "Instance" USING GIN ("tags");

CREATE TABLE "Rollout" (
    "id" SERIAL NOT NULL,
    "createdById" INTEGER,
    "createdByLogin" TEXT NOT NULL,
    "filterDescription" TEXT NOT NULL,
    "targetRelease" TEXT,
    "targetEdxPlatformBranch" TEXT NOT NULL DEFAULT '',
    "targetConfigurationBranch" TEXT NOT NULL DEFAULT '',
    "waveSize" INTEGER NOT NULL,
    "failureThreshold" DOUBLE PRECISION NOT NULL,
    "resumedAtFinished" INTEGER NOT NULL DEFAULT 0,
    "status" "RolloutStatus" NOT NULL DEFAULT 'running',
    "statusReason" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Rollout_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "RolloutItem" (
    "id" SERIAL NOT NULL,
    "rolloutId" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "instanceId" INTEGER NOT NULL,
    "newAppServerId" INTEGER,
    "oldAppServerId" INTEGER,
    "status" "RolloutItemStatus" NOT NULL DEFAULT 'pending',
    "error" TEXT NOT NULL DEFAULT '',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RolloutItem_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "Rollout_status_idx" ON "Rollout"("status");

CREATE INDEX "Rollout_createdAt_idx" ON "Rollout"("createdAt");

CREATE UNIQUE INDEX "RolloutItem_rolloutId_position_key" ON "RolloutItem"("rolloutId", "position");

CREATE UNIQUE INDEX "RolloutItem_rolloutId_instanceId_key" ON "RolloutItem"("rolloutId", "instanceId");

CREATE INDEX "RolloutItem_instanceId_idx" ON "RolloutItem"("instanceId");

CREATE INDEX "RolloutItem_newAppServerId_idx" ON "RolloutItem"("newAppServerId");

CREATE INDEX "RolloutItem_oldAppServerId_idx" ON "RolloutItem"("oldAppServerId");

ALTER TABLE "Rollout" ADD CONSTRAINT "Rollout_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

ALTER TABLE "RolloutItem" ADD CONSTRAINT "RolloutItem_rolloutId_fkey" FOREIGN KEY ("rolloutId") REFERENCES "Rollout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "RolloutItem" ADD CONSTRAINT "RolloutItem_instanceId_fkey" FOREIGN KEY ("instanceId") REFERENCES "Instance"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "RolloutItem" ADD CONSTRAINT "RolloutItem_newAppServerId_fkey" FOREIGN KEY ("newAppServerId") REFERENCES "AppServer"("id") ON DELETE SET NULL ON UPDATE CASCADE;

ALTER TABLE "RolloutItem" ADD CONSTRAINT "RolloutItem_oldAppServerId_fkey" FOREIGN KEY ("oldAppServerId") REFERENCES "AppServer"("id") ON DELETE SET NULL ON UPDATE CASCADE;
