-- A new first provisioning step, prepare-data (src/domain/provisioning/steps.ts): every recorded
-- step moves one position down, so an appserver provisioning during the upgrade resumes at the step
-- it was in. Its earlier steps count as done (the runner's rule), prepare-data included: it had
-- launched without external data, and its next launch prepares it.
UPDATE "AppServerStep" SET "position" = "position" + 1;
