// Changes an instance's settings. The input may hold only the fields to change: the rest keep
// their current values (a blank prefixed domain follows the LMS domain). The slug never changes.
// Existing appservers keep their own snapshot of the settings (DESIGN §3). The extra variables and
// the bootstrap command may come back as the admin form showed them, secrets masked: each mask is
// given back the stored secret it stands for.
import type { Deps } from "../../deps.js";
import type { Instance } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { bumpAndApply } from "../loadbalancer/bump-configuration.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { announceInstanceChange } from "../appservers/outbox.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { unmaskSettings } from "../secrets/instance-secrets.js";
import { instanceAuditViews } from "./audit-view.js";
import { archiveProblem, unroutingProblem } from "./archive-instance.js";
import { instanceDefaults, instanceToInput, type InstanceInput } from "./instance-input.js";
import {
  checkInstanceReferences, INSTANCE_UNIQUE_MESSAGES, invalidInstance, lockInstanceWrites, routingChanged,
} from "./instance-integrity.js";
import { validateInstance } from "./validate-instance.js";

export interface UpdateInstanceInput {
  actor: Actor;
  id: number;
  values: InstanceInput;
}

export async function updateInstance(deps: Pick<Deps, "db" | "config">, input: UpdateInstanceInput): Promise<Instance> {
  const { slug, ...values } = input.values;
  try {
    return await deps.db.$transaction(async (tx) => {
      await lockInstanceWrites(tx);
      const before = await tx.instance.findUnique({ where: { id: input.id } });
      if (!before) throw notFound("Instance");
      if (slug !== undefined && slug !== before.slug) throw validationError({ slug: "The slug cannot be changed: it names the instance's VMs." });
      const unmasked = unmaskSettings(values, before);
      if (Object.keys(unmasked.errors).length) throw validationError(unmasked.errors);
      const result = validateInstance({ ...instanceToInput(before), ...unmasked.values }, instanceDefaults(deps.config));
      if (!result.ok) throw await invalidInstance(tx, result, before.id);
      if (!changes(before, result.data)) return before;
      await checkInstanceReferences(tx, result.data, before.id);
      const archiving = result.data.isArchived && !before.isArchived ? await archiveProblem(tx, before) : null;
      const unrouting = before.loadBalancerId !== null && result.data.loadBalancerId === null ? await unroutingProblem(tx, before) : null;
      if (archiving || unrouting) throw validationError({ ...(archiving ? { isArchived: archiving } : {}), ...(unrouting ? { loadBalancerId: unrouting } : {}) });
      const after = await tx.instance.update({ where: { id: before.id }, data: result.data });
      if (routingChanged(before, after)) await bumpAndApply(tx, [before.loadBalancerId, after.loadBalancerId]);
      await announceInstanceChange(tx, after.id);
      const [beforeView, afterView] = instanceAuditViews(before, after);
      await recordAuditEvent(tx, {
        actor: input.actor, action: "instance.updated", subjectType: "Instance", subjectId: after.id,
        subjectName: after.name, before: beforeView, after: afterView,
      });
      return after;
    });
  } catch (err) {
    rethrowUniqueViolation(err, INSTANCE_UNIQUE_MESSAGES);
  }
}

/** Whether saving `data` would change anything (compared unmasked: a changed password counts). */
function changes(before: Instance, data: Record<string, unknown>): boolean {
  return Object.entries(data).some(([key, value]) => JSON.stringify(before[key as keyof Instance]) !== JSON.stringify(value));
}
