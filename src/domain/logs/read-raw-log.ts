// The whole stored log as text, for "download": read in pages by seq (keyset, the (appServerId,
// seq) index), so a 1,000,000-line log streams out without being held in memory.
import type { Deps } from "../../deps.js";

const PAGE = 5000;

/** Yields the log's lines, a page at a time, each ending in a newline. */
export async function* readRawLog(deps: Pick<Deps, "db">, input: { appServerId: number }): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    const rows = await deps.db.logEntry.findMany({
      where: { appServerId: input.appServerId, seq: { gt: after } }, orderBy: { seq: "asc" }, take: PAGE, select: { seq: true, text: true },
    });
    if (rows.length === 0) return;
    yield rows.map((r) => `${r.text}\n`).join("");
    after = rows.at(-1)!.seq;
    if (rows.length < PAGE) return;
  }
}
