-- The home page reads appservers by status and age (the provisioning panel, the cleanup due today).
-- With an index on status alone, PostgreSQL walked another index through every appserver instead.
DROP INDEX "AppServer_status_idx";

CREATE INDEX "AppServer_status_createdAt_idx" ON "AppServer"("status", "createdAt");
