// The failure summary from the stored log, so it is right even when the run was resumed by
// another worker after the failing task was printed.
import type { Deps } from "../../deps.js";
import { createFailureTracker } from "./failure-summary.js";

export async function failureSummaryFromLog(deps: Pick<Deps, "db">, appServerId: number): Promise<string> {
  const tracker = createFailureTracker();
  let after = 0;
  for (;;) {
    const rows = await deps.db.logEntry.findMany({
      where: { appServerId, seq: { gt: after }, NOT: { text: { startsWith: "[ocim]" } } },
      orderBy: { seq: "asc" },
      take: 5000,
      select: { seq: true, text: true },
    });
    for (const r of rows) tracker.see(r.text);
    if (rows.length < 5000) break;
    after = rows.at(-1)!.seq;
  }
  return tracker.summary();
}
