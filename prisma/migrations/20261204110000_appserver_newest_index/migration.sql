-- An instance's newest appserver (ORDER BY "createdAt" DESC, id DESC LIMIT 1) and its status read from
-- the index alone: the instance lists' status badge and failing filter, and the home page's failing
-- panel, which asks it of every failed appserver. On (instanceId, createdAt) PostgreSQL sorted each
-- instance's appservers again for the id and read the row for its status. Measured on bench/seed.ts's
-- fleet (bench/README.md, 2026-12-04 10:09): the failing panel 22-36 ms to 14-21, the console's
-- search 1-28 % more requests per second at 20 clients (8 pairs, median 14 %). It also serves every
-- read the old index served.
DROP INDEX "AppServer_instanceId_createdAt_idx";

CREATE INDEX "AppServer_instanceId_createdAt_id_status_idx" ON "AppServer"("instanceId", "createdAt" DESC, "id" DESC, "status");
