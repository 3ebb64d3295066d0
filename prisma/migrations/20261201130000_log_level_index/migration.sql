-- The viewer's "first failure" and the outline's failed tasks: the error lines of one appserver in
-- seq order, found in the index instead of scanning every line of a long run.
CREATE INDEX "LogEntry_appServerId_level_seq_idx" ON "LogEntry"("appServerId", "level", "seq");
