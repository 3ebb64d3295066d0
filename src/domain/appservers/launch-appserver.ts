// "Launch new AppServer": freeze the instance's current settings and the final playbook variables
// into a new appserver, whose lifecycle's launch transition queues its provisioning in the same
// transaction (an outbox row the worker's relay sends after the commit: DESIGN §4-5, STYLE 6).
// Later edits to the instance never change the snapshot. A launch key (the form's one-time token,
// the API's Idempotency-Key) makes a resent request answer with the appserver it made, and no more
// than MAX_PROVISIONING_PER_INSTANCE appservers of an instance provision at once.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";
import { formatMinute } from "../../format-minute.js";
import { recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { moveAppServer, PROVISIONING_STATUSES } from "./lifecycle.js";
import { writeSnapshot, type ConfigSnapshot } from "./config-snapshot.js";
import { ensureJwtKey } from "../data/instance-secrets.js";
import { nextAppServerNumber } from "./next-number.js";
import { planLaunch, type PlanDeps } from "../recipes/plan-launch.js";
import { providerOsProblem } from "../recipes/recipe-os.js";
import { uniqueViolationFields } from "../validation/unique-violation.js";
import { unreachableServiceProblem } from "../data/check-service-choice.js";
import type { AppServer, Instance } from "../../generated/prisma/client.ts";


// Every instance setting except the encrypted keys and bookkeeping columns.
const OMIT = new Set(["secretKeyEncrypted", "jwtKeyEncrypted", "createdAt", "updatedAt"]);

/** How long a launch key (a form's token, an API Idempotency-Key) finds the appserver it made. */
export const LAUNCH_KEY_TTL_MS = 24 * 3600_000;

type LaunchDeps = Pick<Deps, "db" | "secrets" | "now" | "config" | "hostOs">;

export interface LaunchInput {
  instanceId: number;
  actor: Actor;
  extraVariables?: Record<string, unknown>;
  /**
   * Names this launch ("form:<token>", "api:<Idempotency-Key>"): the same user sending the same key
   * again gets the appserver the first one made (`replayed`), not a second one.
   */
  launchKey?: string;
  /** The failed appserver this launch replaces (a relaunch), named in the audit row. */
  relaunchOf?: { id: number; name: string };
}

export async function launchAppServer(deps: LaunchDeps, input: LaunchInput): Promise<AppServer & { replayed: boolean }> {
  let launched: AppServer & { replayed: boolean };
  try {
    launched = await launchOnce(deps, input);
  } catch (err) {
    // The same key for two instances at once: each held its own instance's lock, so the unique
    // index caught the second. Run again: it now finds the first and says the key was used.
    if (!uniqueViolationFields(err)?.includes("key")) throw err;
    launched = await launchOnce(deps, input);
  }
  return launched;
}

function launchOnce(deps: LaunchDeps, input: LaunchInput): Promise<AppServer & { replayed: boolean }> {
  return deps.db.$transaction(async (tx) => {
    const found = await tx.instance.findUnique({
      where: { id: input.instanceId },
      select: { isArchived: true, recipe: true, providerKind: true, mysqlServiceId: true, mongodbServiceId: true, storageServiceId: true },
    });
    if (!found) throw new AppError("not_found", "Instance not found.");
    if (found.isArchived) throw new AppError("rule", "This instance is archived; unarchive it in the admin before launching an appserver.");
    // Known before any VM is made (the local provider's VMs run this host's OS); the playbook's own
    // check would only say so after a VM was started, and leave it running.
    const osProblem = providerOsProblem(found.recipe, found.providerKind, deps.hostOs);
    if (osProblem) throw new AppError("rule", osProblem);
    const serviceProblem = await unreachableServiceProblem(tx, found);
    if (serviceProblem) throw new AppError("rule", serviceProblem);
    // Launches of one instance queue here, so the key lookup and the count below see every launch
    // committed before this one (READ COMMITTED reads anew at each statement).
    await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${input.instanceId} FOR UPDATE`;
    const key = input.launchKey && input.actor.id !== null ? { userId: input.actor.id, key: input.launchKey } : null;
    if (key) {
      const earlier = await earlierLaunch(tx, deps.now(), input.instanceId, key);
      if (earlier) return { ...earlier, replayed: true };
    }
    if (input.relaunchOf) await refuseRelaunchedAlready(tx, input.instanceId, input.relaunchOf);
    await refuseBeyondProvisioningCap(tx, input.instanceId, deps.config.MAX_PROVISIONING_PER_INSTANCE);
    const created = await createAppServer(deps, tx, input);
    if (key) await tx.launchRequest.create({ data: { ...key, appServerId: created.id, createdAt: deps.now() } });
    return { ...created, replayed: false };
  }, QUEUED_LAUNCH);
}

// Launches of one instance queue on its row lock: ten at once must not give up waiting for a pool
// connection after Prisma's default 2 s, nor time out behind the others after its default 5 s.
const QUEUED_LAUNCH = { maxWait: 10_000, timeout: 30_000 };

/** The appserver an earlier launch with this key made, after forgetting keys past their time. */
async function earlierLaunch(tx: Prisma.TransactionClient, now: Date, instanceId: number, key: { userId: number; key: string }): Promise<AppServer | null> {
  await tx.launchRequest.deleteMany({ where: { createdAt: { lte: new Date(now.getTime() - LAUNCH_KEY_TTL_MS) } } });
  const row = await tx.launchRequest.findUnique({
    where: { userId_key: key },
    select: { appServer: { include: { instance: { select: { name: true } } } } },
  });
  if (!row) return null;
  const { instance, ...appServer } = row.appServer;
  if (appServer.instanceId !== instanceId) {
    throw new AppError("key_reused", `This key was already used to launch ${appServer.name} of the instance "${instance.name}"; use a new key for a different launch.`);
  }
  return appServer;
}

/**
 * A failed appserver is relaunched once: a second Relaunch from a page opened before the first (a
 * colleague's, another tab) would launch a second new appserver for the same retry. Read under the
 * instance's lock, from the audit row every relaunch writes.
 */
async function refuseRelaunchedAlready(tx: Prisma.TransactionClient, instanceId: number, failed: { id: number; name: string }): Promise<void> {
  const earlier = await tx.auditEvent.findFirst({
    where: { action: "appserver.launched", subjectType: "Instance", subjectId: String(instanceId), diff: { path: ["relaunchOfId", "1"], equals: failed.id } },
    orderBy: { id: "asc" }, select: { actorLogin: true, diff: true },
  });
  const id = (earlier?.diff as { appServerId?: [unknown, unknown] } | undefined)?.appServerId?.[1];
  const relaunch = typeof id === "number" ? await tx.appServer.findUnique({ where: { id }, select: { name: true, status: true, createdAt: true } }) : null;
  if (!earlier || !relaunch) return;
  throw new AppError("wrong_state", `${failed.name} was relaunched already, as ${relaunch.name} (${relaunch.status}) by ${earlier.actorLogin} at ` +
    `${formatMinute(relaunch.createdAt)}; nothing was launched. Relaunch ${relaunch.name} if it fails too.`);
}

async function refuseBeyondProvisioningCap(tx: Prisma.TransactionClient, instanceId: number, cap: number): Promise<void> {
  const busy = await tx.appServer.findMany({
    where: { instanceId, status: { in: [...PROVISIONING_STATUSES] } }, orderBy: { number: "asc" }, select: { name: true },
  });
  if (busy.length < cap) return;
  const names = busy.map((a) => a.name);
  throw new AppError("rule", `This instance already has ${busy.length} appservers being provisioned (${names.join(", ")}); ` +
    `at most ${cap} may be at once (MAX_PROVISIONING_PER_INSTANCE). Wait for one to finish or cancel one, then launch again.`, { inProgress: names });
}

/**
 * What a launch freezes into appserver `number` of `instance` (AppServer.configSnapshot): its settings
 * and its recipe's plan. `instance` has its JWT key (ensureJwtKey).
 */
export async function launchSnapshot(
  tx: Prisma.TransactionClient, deps: PlanDeps & Pick<Deps, "now">, instance: Instance, number: number, extra?: Record<string, unknown>,
): Promise<ConfigSnapshot> {
  const launch = await planLaunch(tx, deps, instance, number, extra);
  return writeSnapshot({
    instance: { ...Object.fromEntries(Object.entries(instance).filter(([k]) => !OMIT.has(k))), slug: instance.slug },
    recipe: launch.recipe,
    playbook: launch.playbook,
    variables: launch.variables,
    providerKind: instance.providerKind,
    launchedAt: deps.now().toISOString(),
  });
}

async function createAppServer(deps: Pick<Deps, "secrets" | "now" | "config">, tx: Prisma.TransactionClient, input: LaunchInput): Promise<AppServer> {
  // launchOnce holds the instance row lock, so two launches never read the same number.
  const number = await nextAppServerNumber(tx, input.instanceId);
  // Instances made before JWT keys existed get theirs at their first launch, kept for the next ones.
  const instance = await ensureJwtKey(tx, deps.secrets, await tx.instance.findUniqueOrThrow({ where: { id: input.instanceId } }));
  const snapshot = await launchSnapshot(tx, deps, instance, number, input.extraVariables);
  const created = await tx.appServer.create({
    data: {
      instanceId: instance.id,
      number,
      name: `AppServer ${number}`,
      providerKind: instance.providerKind,
      configSnapshot: JSON.parse(JSON.stringify(snapshot)) as Prisma.InputJsonValue,
      createdById: input.actor.id,
      createdByLogin: input.actor.login,
    },
  });
  await recordAuditEvent(tx, {
    actor: input.actor, action: "appserver.launched", subjectType: "Instance", subjectId: instance.id,
    subjectName: instance.name,
    after: { appServer: created.name, appServerId: created.id, ...(input.relaunchOf ? { relaunchOf: input.relaunchOf.name, relaunchOfId: input.relaunchOf.id } : {}) },
  });
  await moveAppServer(tx, deps, "launch", { appServerId: created.id, actor: input.actor });
  return created;
}
