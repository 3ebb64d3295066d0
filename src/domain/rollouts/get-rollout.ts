// What the roll-out pages show: the list of roll-outs, and one roll-out with each instance's
// progress (its item, the new and the old appserver), the counts, the failure ratio and the wave.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import { failureRatio, tally } from "./advance-rollout.js";
import { targetWords } from "./start-rollout.js";

const appServerView = { select: { id: true, name: true, status: true, isActive: true } } as const;

export async function getRollout(deps: Pick<Deps, "db">, input: { id: number }) {
  const rollout = await deps.db.rollout.findUnique({
    where: { id: input.id },
    include: {
      items: {
        orderBy: { position: "asc" },
        include: { instance: { select: { id: true, name: true, openedxRelease: true } }, newAppServer: appServerView, oldAppServer: appServerView },
      },
    },
  });
  if (!rollout) throw notFound("Roll-out");
  // From the items read above, not a second query: a job moving an item in between made the counts
  // and the table disagree ("Wave 1 of 3 … 1 in progress" beside a table with none in progress).
  const counts = tally(rollout.items);
  // An item a cancel skipped during its launch was started all the same (it keeps its new
  // appserver); one skipped while pending never was.
  const started = rollout.items.filter((i) => i.status !== "pending" && (i.status !== "skipped" || i.newAppServerId !== null));
  const lastStarted = started.length ? Math.max(...started.map((i) => i.position)) : -1;
  return {
    ...rollout,
    target: targetWords(rollout),
    counts,
    ratio: failureRatio(counts),
    waves: Math.ceil(rollout.items.length / rollout.waveSize),
    /** The wave whose launches went out last (1-based); 0 before the first. */
    wave: lastStarted < 0 ? 0 : Math.floor(lastStarted / rollout.waveSize) + 1,
  };
}

export type RolloutView = Awaited<ReturnType<typeof getRollout>>;

/** The newest roll-outs first, with their counts per item status. */
export async function listRollouts(deps: Pick<Deps, "db">, input: { limit: number }) {
  const rollouts = await deps.db.rollout.findMany({ orderBy: { id: "desc" }, take: input.limit });
  const groups = await deps.db.rolloutItem.groupBy({ by: ["rolloutId", "status"], where: { rolloutId: { in: rollouts.map((r) => r.id) } }, _count: { _all: true } });
  return rollouts.map((r) => {
    const mine = groups.filter((g) => g.rolloutId === r.id);
    const count = (status: string) => mine.find((g) => g.status === status)?._count._all ?? 0;
    return { ...r, target: targetWords(r), total: mine.reduce((n, g) => n + g._count._all, 0), done: count("done"), failed: count("failed") };
  });
}
