-- The console for a fleet (issue 16).
-- The sidebar sorts by name whatever the letters' case ("acme" beside "Acme", not after "Zeta"):
-- a column PostgreSQL generates from the name, and indexes that serve one page of it in order.
ALTER TABLE "Instance" ADD COLUMN "sortName" TEXT GENERATED ALWAYS AS (lower(name)) STORED;

CREATE INDEX "Instance_isArchived_sortName_id_idx" ON "Instance"("isArchived", "sortName", "id");

CREATE INDEX "Instance_sortName_id_idx" ON "Instance"("sortName", "id");

-- The home page's recent launches across the fleet: the newest appservers, whatever their instance.
CREATE INDEX "AppServer_createdAt_idx" ON "AppServer"("createdAt");

-- The port the VM's sshd answers on, recorded with its address when the VM is ready, so the
-- appserver page can give the exact ssh command. Null before that (and for appservers made before
-- this column: their command says the port is not known).
ALTER TABLE "AppServer" ADD COLUMN "sshPort" INTEGER;
