// Creates a load balancer, or changes one (`id` given). A changed balancer gets a new
// configurationVersion, so the next apply writes its files where they now belong. Saving
// without a change writes nothing. A local balancer's files must be inside LOCAL_LB_DIR, and there
// is at most one local balancer.
import type { Config } from "../../config.js";
import type { Prisma } from "../../db.js";
import type { Deps } from "../../deps.js";
import type { LoadBalancer } from "../../generated/prisma/client.ts";
import { notFound, validationError, type FieldErrors } from "../../errors.js";
import { localFileFieldMessage, localFileProblem } from "../../adapters/haproxy/local-dir.js";
import { localRuntimePaths } from "../../adapters/haproxy/local-process.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import type { Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { LOAD_BALANCER_FIELDS, validateLoadBalancer, type LoadBalancerData } from "./validate-load-balancer.js";

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

/** A local balancer writes on this host: only inside LOCAL_LB_DIR (an ssh one writes on its own host). */
function localPathErrors(config: Config, data: LoadBalancerData): FieldErrors {
  const errors: FieldErrors = {};
  if (data.kind !== "local") return errors;
  for (const field of ["configPath", "mapPath"] as const) {
    const problem = localFileProblem(config.localLbDir, data[field]);
    if (problem) errors[field] = localFileFieldMessage(config.localLbDir, data[field], problem);
  }
  if (!errors.configPath) {
    try {
      localRuntimePaths(data.configPath);
    } catch (err) {
      errors.configPath = (err as Error).message;
    }
  }
  return errors;
}

/** Every local balancer listens on LB_HTTP_PORT: a second one could only fight the first for it. */
async function assertNoOtherLocal(tx: Pick<Prisma.TransactionClient, "loadBalancer" | "$executeRaw">, config: Config, id: number | undefined): Promise<void> {
  // Two admins saving a local balancer at once: the second waits here, then sees the first.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('ocim.local-balancer'))`;
  const other = await tx.loadBalancer.findFirst({ where: { kind: "local", ...(id === undefined ? {} : { id: { not: id } }) }, select: { name: true } });
  if (other) {
    throw validationError({
      kind: `Only one local load balancer can run on this host (each listens on port ${config.LB_HTTP_PORT}), and "${other.name}" is local already. Choose ssh, or change "${other.name}" instead.`,
    });
  }
}

export async function saveLoadBalancer(deps: Pick<Deps, "db" | "config">, input: SaveLoadBalancerInput): Promise<LoadBalancer> {
  const result = validateLoadBalancer(input.values);
  if (!result.ok) throw validationError(result.errors);
  const pathErrors = localPathErrors(deps.config, result.data);
  if (Object.keys(pathErrors).length) throw validationError(pathErrors);
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.loadBalancer.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Load balancer");
      if (result.data.kind === "local") await assertNoOtherLocal(tx, deps.config, input.id);
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
