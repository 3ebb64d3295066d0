// Deletes log lines older than LOG_RETENTION_DAYS in small batches (DESIGN §10), each its own
// short statement, so the console's inserts and reads never wait long behind it.
import type { Deps } from "../../deps.js";

const BATCH = 5000;

export async function purgeLogs(deps: Pick<Deps, "db" | "config" | "now">, opts: { pauseMs?: number } = {}): Promise<{ deleted: number; before: Date }> {
  const before = new Date(deps.now().getTime() - deps.config.LOG_RETENTION_DAYS * 86_400_000);
  let deleted = 0;
  for (;;) {
    const n = await deps.db.$executeRaw`
      DELETE FROM "LogEntry" WHERE id IN (
        SELECT id FROM "LogEntry" WHERE "createdAt" < ${before} ORDER BY id LIMIT ${BATCH})`;
    deleted += n;
    if (n < BATCH) return { deleted, before };
    await new Promise((r) => setTimeout(r, opts.pauseMs ?? 50));
  }
}
