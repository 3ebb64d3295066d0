// Creates a load balancer, or changes one (`id` given). A changed balancer gets a new
// configurationVersion, so the next apply writes its files where they now belong. Saving
// without a change writes nothing.
import type { Deps } from "../../deps.js";
import type { LoadBalancer } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import type { Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { LOAD_BALANCER_FIELDS, validateLoadBalancer } from "./validate-load-balancer.js";

export interface SaveLoadBalancerInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

const UNIQUE_MESSAGES = {
  name: "Another load balancer already has this name.",
  fragmentName: "Another load balancer already uses this fragment name.",
};

function auditView(lb: LoadBalancer): Record<string, unknown> {
  return Object.fromEntries(LOAD_BALANCER_FIELDS.map((f) => [f, lb[f]]));
}

export async function saveLoadBalancer(deps: Pick<Deps, "db">, input: SaveLoadBalancerInput): Promise<LoadBalancer> {
  const result = validateLoadBalancer(input.values);
  if (!result.ok) throw validationError(result.errors);
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.loadBalancer.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Load balancer");
      if (before && !Object.keys(diffRecords(auditView(before), result.data)).length) return before;
      const after = before
        ? await tx.loadBalancer.update({ where: { id: before.id }, data: { ...result.data, configurationVersion: { increment: 1 } } })
        : await tx.loadBalancer.create({ data: result.data });
      await recordAuditEvent(tx, {
        actor: input.actor, action: before ? "load_balancer.updated" : "load_balancer.created", subjectType: "LoadBalancer",
        subjectId: after.id, subjectName: after.name, before: before && auditView(before), after: auditView(after),
      });
      return after;
    });
  } catch (err) {
    rethrowUniqueViolation(err, UNIQUE_MESSAGES);
  }
}
