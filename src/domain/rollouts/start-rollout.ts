// "Roll out": the instances the filters choose, relaunched in waves by the worker's advance-rollout
// job (advance-rollout.ts). This writes the roll-out, one item per instance in name order, its one
// audit row, and the outbox row that starts the first wave once the transaction commits.
import type { Deps } from "../../deps.js";
import { AppError, validationError } from "../../errors.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { writeOutbox, OUTBOX } from "../appservers/outbox.js";
import type { Input } from "../validation/field-reader.js";
import { readRolloutInput } from "./rollout-input.js";
import { rolloutTargetProblem } from "./check-rollout-target.js";
import { describeFilter, selectRolloutInstances } from "./select-instances.js";
import type { Rollout } from "../../generated/prisma/client.ts";

/** An instance in two unfinished roll-outs would get two launches racing for its activation. */
const UNFINISHED = ["running", "paused"] as const;

export async function startRollout(deps: Pick<Deps, "db" | "config">, input: { actor: Actor; values: Input }): Promise<Rollout> {
  const { filter, target, waveSize, failureThreshold } = readRolloutInput(input.values);
  return deps.db.$transaction(async (tx) => {
    const balancer = filter.loadBalancerId ? await tx.loadBalancer.findUnique({ where: { id: filter.loadBalancerId }, select: { name: true } }) : null;
    if (filter.loadBalancerId && !balancer) throw validationError({ loadBalancerId: `There is no balancer #${filter.loadBalancerId}; choose one from the list.` });
    const { rows } = await selectRolloutInstances(tx, filter);
    if (rows.length === 0) throw validationError({ filter: "No instance matches these filters (archived instances are never rolled out); nothing was started." });
    const unsuited = await rolloutTargetProblem(tx, deps.config, rows.map((r) => r.id), target);
    if (unsuited) throw validationError({ targetRelease: unsuited });
    const busy = await tx.rolloutItem.findMany({
      where: { instanceId: { in: rows.map((r) => r.id) }, rollout: { status: { in: [...UNFINISHED] } } },
      select: { instance: { select: { name: true } }, rolloutId: true }, orderBy: { instanceId: "asc" }, take: 5,
    });
    if (busy.length) {
      const names = busy.map((b) => `${b.instance.name} (roll-out #${b.rolloutId})`).join(", ");
      throw new AppError("rule", `Some of these instances are in a roll-out that has not finished: ${names}. Wait for it to finish or cancel it, then start this one.`);
    }
    const rollout = await tx.rollout.create({
      data: {
        createdById: input.actor.id, createdByLogin: input.actor.login, filterDescription: describeFilter(filter, balancer?.name),
        targetRelease: target.kind === "release" ? target.release : null,
        targetEdxPlatformBranch: target.kind === "release" ? target.edxPlatformBranch : "",
        targetConfigurationBranch: target.kind === "release" ? target.configurationBranch : "",
        waveSize, failureThreshold,
        items: { create: rows.map((row, position) => ({ instanceId: row.id, position })) },
      },
    });
    await recordAuditEvent(tx, {
      actor: input.actor, action: "rollout.started", subjectType: "Rollout", subjectId: rollout.id, subjectName: `Roll-out #${rollout.id}`,
      after: {
        filter: rollout.filterDescription, target: targetWords(rollout), waveSize, failureThreshold,
        instances: rows.map((r) => r.name),
      },
    });
    await writeOutbox(tx, [{ kind: OUTBOX.advanceRollout, payload: { rolloutId: rollout.id } }]);
    return rollout;
  });
}

/** "current settings", or "release teak (edx-platform: …, configuration: …)". */
export function targetWords(rollout: Pick<Rollout, "targetRelease" | "targetEdxPlatformBranch" | "targetConfigurationBranch">): string {
  if (rollout.targetRelease === null) return "current settings";
  const branches = [
    rollout.targetEdxPlatformBranch && `edx-platform ${rollout.targetEdxPlatformBranch}`,
    rollout.targetConfigurationBranch && `configuration ${rollout.targetConfigurationBranch}`,
  ].filter(Boolean);
  return `release ${rollout.targetRelease}${branches.length ? ` (${branches.join(", ")})` : ""}`;
}
