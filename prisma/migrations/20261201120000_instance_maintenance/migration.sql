-- An instance in maintenance: the load balancer answers every one of its domains with a 503 page
-- naming the site, whatever appservers it has, and its last active appserver may be deactivated
-- (the first step of taking a site down, docs/admin.md "Decommissioning"). Null: not in maintenance.
-- maintenanceBy is the login of who put it there (the audit log has the rest).
ALTER TABLE "Instance" ADD COLUMN "maintenanceSince" TIMESTAMP(3),
ADD COLUMN "maintenanceBy" TEXT;
