// What every instance write checks besides its own row: its domains are free across all
// instances, its load balancer exists; and what it touches: the balancers that route it.
import type { Prisma } from "../../db.js";
import { validationError, type AppError, type FieldErrors } from "../../errors.js";
import { PREFIXED_DOMAIN_FIELDS } from "./domains.js";
import { DOMAIN_FIELD_LABELS, type InstanceData } from "./instance-input.js";
import { dataServiceConflicts } from "../data/check-service-choice.js";

type Tx = Prisma.TransactionClient;
type DomainField = keyof typeof DOMAIN_FIELD_LABELS;

const DOMAIN_COLUMNS = ["internalLmsDomain", ...PREFIXED_DOMAIN_FIELDS] as const;

/**
 * Serializes instance writes for the rest of the transaction, so that the check below sees every
 * domain taken and can say which instance has it. The database refuses a taken domain too (the
 * InstanceDomain table's key, across all columns), but its error cannot name the other instance.
 */
export async function lockInstanceWrites(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('ocim.instance-writes'))`;
}

function domainsOf(data: Pick<InstanceData, DomainField>): [DomainField, string][] {
  return [
    ...DOMAIN_COLUMNS.map((c) => [c, data[c]] as [DomainField, string]),
    ...data.externalDomains.map((d) => ["externalDomains", d] as [DomainField, string]),
  ];
}

/** Field errors for each of `data`'s domains (blank ones skipped) that another instance already has, naming it. */
export async function findDomainConflicts(tx: Tx, data: Pick<InstanceData, DomainField>, excludeId: number | null): Promise<FieldErrors> {
  const mine = domainsOf(data).filter(([, d]) => d);
  const wanted = [...new Set(mine.map(([, d]) => d))];
  if (!wanted.length) return {};
  const others = await tx.instance.findMany({
    where: {
      ...(excludeId === null ? {} : { id: { not: excludeId } }),
      OR: [...DOMAIN_COLUMNS.map((c) => ({ [c]: { in: wanted } })), { externalDomains: { hasSome: wanted } }],
    },
    select: { name: true, internalLmsDomain: true, studioDomain: true, previewDomain: true, ecommerceDomain: true, discoveryDomain: true, appsDomain: true, externalDomains: true },
    take: 50,
  });
  const owners = new Map<string, string>();
  for (const other of others) {
    for (const [field, domain] of domainsOf(other)) {
      if (!owners.has(domain)) owners.set(domain, `instance "${other.name}" (its ${DOMAIN_FIELD_LABELS[field]})`);
    }
  }
  const errors: FieldErrors = {};
  for (const [field, domain] of mine) {
    const owner = owners.get(domain);
    if (owner) errors[field] ??= `${domain} is already used by ${owner}.`;
  }
  return errors;
}

/**
 * A failed validation, completed with the domains already taken, so the form shows every problem
 * at once instead of revealing the taken domains only after the rest is fixed.
 */
export async function invalidInstance(tx: Tx, result: { errors: FieldErrors; domains: Pick<InstanceData, DomainField> }, excludeId: number | null): Promise<AppError> {
  const taken = await findDomainConflicts(tx, result.domains, excludeId);
  return validationError({ ...taken, ...result.errors });
}

/** Throws a validation error when a domain is taken, or the load balancer or a data service does not fit. */
export async function checkInstanceReferences(tx: Tx, data: InstanceData, excludeId: number | null): Promise<void> {
  const errors = await findDomainConflicts(tx, data, excludeId);
  if (data.loadBalancerId !== null) {
    const lb = await tx.loadBalancer.findUnique({ where: { id: data.loadBalancerId }, select: { id: true } });
    if (!lb) errors.loadBalancerId = "This load balancer does not exist (any more); choose another.";
  }
  Object.assign(errors, await dataServiceConflicts(tx, data, excludeId));
  if (Object.keys(errors).length) throw validationError(errors);
}

/** Marks balancers as having a newer configuration to apply (DESIGN §8: dirty until deployed). */
/** What routing depends on: when none of it changed, the balancers need not be touched. */
export function routingChanged(before: InstanceData, after: InstanceData): boolean {
  const key = (d: InstanceData) => JSON.stringify([domainsOf(d), d.loadBalancerId, d.isArchived]);
  return key(before) !== key(after);
}

/** Messages for a unique index that caught a duplicate the checks above could not see coming. */
export const INSTANCE_UNIQUE_MESSAGES: Record<string, string> = {
  slug: "Another instance took this slug at the same moment; save again.",
  ...Object.fromEntries(DOMAIN_COLUMNS.map((c) => [c, "This domain was just taken by another instance."])),
  // InstanceDomain's key, which covers every domain column and the external domains.
  domain: "One of these domains was just taken by another instance; save again to see which.",
};
