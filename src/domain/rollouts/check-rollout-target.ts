// Whether every chosen instance takes the roll-out's release: the admin form's own validation of each
// instance's settings with the target set, as launchItem's updateInstance will run it. A release that
// does not suit an instance's recipe (teak on native, a branch name on tutor) would only fail its
// item once the roll-out runs, and count towards the pause; the review names those instances instead.
import type { Config } from "../../config.js";
import type { Prisma } from "../../db.js";
import { instanceDefaults, instanceToInput } from "../instances/instance-input.js";
import { validateInstance } from "../instances/validate-instance.js";
import { instancesByName } from "../instances/instance-order.js";
import type { RolloutTarget } from "./rollout-input.js";

/** How many instances a message names for one problem; the rest are counted. */
const NAMED = 5;

/**
 * Null when every instance would take the target, else the message for the release field: each
 * problem once, with the instances that have it.
 */
export async function rolloutTargetProblem(db: Pick<Prisma.TransactionClient, "instance">, config: Config, instanceIds: number[], target: RolloutTarget): Promise<string | null> {
  if (target.kind !== "release" || instanceIds.length === 0) return null;
  const instances = await db.instance.findMany({ where: { id: { in: instanceIds } }, orderBy: instancesByName() });
  const values = { openedxRelease: target.release, edxPlatformBranch: target.edxPlatformBranch, configurationBranch: target.configurationBranch };
  const byProblem = new Map<string, string[]>();
  for (const instance of instances) {
    const result = validateInstance({ ...instanceToInput(instance), ...values }, instanceDefaults(config));
    if (result.ok) continue;
    for (const problem of Object.values(result.errors)) byProblem.set(problem, [...(byProblem.get(problem) ?? []), instance.name]);
  }
  if (byProblem.size === 0) return null;
  const count = new Set([...byProblem.values()].flat()).size;
  const parts = [...byProblem].map(([problem, names]) => {
    const more = names.length > NAMED ? ` and ${names.length - NAMED} more` : "";
    return `${names.slice(0, NAMED).join(", ")}${more}: ${problem}`;
  });
  return `Release ${target.release} does not suit ${count} of the ${instances.length} instances (the admin form refuses it there, so their launches would fail): ` +
    `${parts.join(" ")} Choose a release that suits them, or narrow the filters (a tag, the current release) to leave them out.`;
}
