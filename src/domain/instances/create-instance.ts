// Creates an instance from a plain input object (the admin form, or the CLI): validates it
// completely, checks its domains against every other instance, gives it a master key, and records
// the audit event, all in one transaction.
import type { Deps } from "../../deps.js";
import type { Instance } from "../../generated/prisma/client.ts";
import { validationError } from "../../errors.js";
import { bumpAndApply } from "../loadbalancer/bump-configuration.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { instanceAuditView } from "./audit-view.js";
import { instanceDefaults, type InstanceInput } from "./instance-input.js";
import { checkInstanceReferences, INSTANCE_UNIQUE_MESSAGES, invalidInstance, lockInstanceWrites } from "./instance-integrity.js";
import { newInstanceSecret } from "./secret.js";
import { newJwtKey } from "../data/instance-secrets.js";
import { freeSlug, slugify } from "./slug.js";
import { validateInstance } from "./validate-instance.js";

export interface CreateInstanceInput {
  actor: Actor;
  values: InstanceInput;
  /** For a pull-request sandbox (src/domain/sandboxes/): the repository that made it and the head commit it is for. */
  sandbox?: { watchedRepositoryId: number; pullRequestHeadSha: string };
}

export async function createInstance(deps: Pick<Deps, "db" | "config" | "secrets">, input: CreateInstanceInput): Promise<Instance> {
  const result = validateInstance(input.values, instanceDefaults(deps.config));
  if (!result.ok) throw await invalidInstance(deps.db, result, null);
  const { data } = result;
  // Made before the transaction: an RSA key takes up to a second here, no lock needs to wait for it.
  const jwtKeyEncrypted = await newJwtKey(deps.secrets);
  try {
    return await deps.db.$transaction(async (tx) => {
      await lockInstanceWrites(tx);
      await checkInstanceReferences(tx, data, null);
      const slug = await freeSlug(tx, result.slug ?? slugify(data.name));
      if (result.slug && slug !== result.slug) {
        const holder = await tx.instance.findUnique({ where: { slug: result.slug }, select: { id: true } });
        throw validationError({
          slug: holder
            ? `Another instance already has the slug "${result.slug}".`
            : `The slug "${result.slug}" owns the kept data of a deleted instance (admin: Kept data); choose another, or drop that data first.`,
        });
      }
      const created = await tx.instance.create({ data: { ...data, ...input.sandbox, slug, secretKeyEncrypted: newInstanceSecret(deps.secrets), jwtKeyEncrypted } });
      await bumpAndApply(tx, [created.loadBalancerId]);
      await recordAuditEvent(tx, {
        actor: input.actor, action: "instance.created", subjectType: "Instance", subjectId: created.id,
        subjectName: created.name, after: instanceAuditView(created),
      });
      return created;
    });
  } catch (err) {
    rethrowUniqueViolation(err, INSTANCE_UNIQUE_MESSAGES);
  }
}
