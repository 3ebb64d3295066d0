-- Pull-request sandboxes (docs/pr-sandboxes.md): watched repositories, and on each sandbox instance
-- the repository that made it, the head commit of its last launch and when its pull request closed.
-- The unique index on (watchedRepositoryId, pullRequestNumber) is what makes a webhook and a poll
-- racing for the same pull request make one instance, not two (NULLs are distinct: other instances
-- are not concerned).
CREATE TYPE "SandboxBranchField" AS ENUM ('edx_platform', 'configuration');

CREATE TYPE "SandboxAuthors" AS ENUM ('org_members', 'list');

CREATE TABLE "WatchedRepository" (
    "id" SERIAL NOT NULL,
    "owner" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "branchField" "SandboxBranchField" NOT NULL DEFAULT 'edx_platform',
    "templateInstanceId" INTEGER NOT NULL,
    "authors" "SandboxAuthors" NOT NULL DEFAULT 'org_members',
    "allowedAuthors" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "relaunchOnPush" BOOLEAN NOT NULL DEFAULT true,
    "keepDaysAfterClose" INTEGER NOT NULL DEFAULT 7,
    "webhookSecretEncrypted" TEXT NOT NULL DEFAULT '',
    "lastPolledAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WatchedRepository_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "WatchedRepository_owner_name_key" ON "WatchedRepository"("owner", "name");

CREATE INDEX "WatchedRepository_templateInstanceId_idx" ON "WatchedRepository"("templateInstanceId");

ALTER TABLE "WatchedRepository" ADD CONSTRAINT "WatchedRepository_templateInstanceId_fkey" FOREIGN KEY ("templateInstanceId") REFERENCES "Instance"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "Instance" ADD COLUMN "watchedRepositoryId" INTEGER,
ADD COLUMN "pullRequestHeadSha" TEXT,
ADD COLUMN "pullRequestClosedAt" TIMESTAMP(3);

CREATE UNIQUE INDEX "Instance_watchedRepositoryId_pullRequestNumber_key" ON "Instance"("watchedRepositoryId", "pullRequestNumber");

ALTER TABLE "Instance" ADD CONSTRAINT "Instance_watchedRepositoryId_fkey" FOREIGN KEY ("watchedRepositoryId") REFERENCES "WatchedRepository"("id") ON DELETE SET NULL ON UPDATE CASCADE;
