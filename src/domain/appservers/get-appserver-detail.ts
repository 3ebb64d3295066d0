// Everything the appserver page shows: status fields, where provisioning is, the authenticated
// link (its password only for those who may see secrets) and the frozen configuration, masked.
import { LRUCache } from "lru-cache";
import type { Deps } from "../../deps.js";
import type { SessionUser } from "../auth/login-github-user.js";
import { maySeeSecrets } from "../auth/may-see.js";
import { viewableOrThrow, type AppServerKey } from "../logs/get-viewable-appserver.js";
import { jsonTimestamp, readJson } from "../../db.js";
import { logPageColumns, logPageOf, type LogPageColumns } from "../logs/read-log.js";
import { Prisma, type AppServer, type AppServerStepOutcome } from "../../generated/prisma/client.ts";
import { basicAuthFor } from "../instances/secret.js";
import { createMasker, MASK, maskTree } from "../secrets/mask-secrets.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import { describeSteps, stepHeadline, stoppedAt, type StepView } from "../provisioning/steps.js";
import { ansibleYaml } from "../provisioning/ansible-yaml.js";
import { readSnapshot, type ConfigSnapshot } from "./config-snapshot.js";
import { AppError, notFound } from "../../errors.js";
import { httpPortOf } from "./health-gate.js";
import { hasGithubKeySql } from "../sshkeys/get-ssh-command.js";

const FINAL = new Set(["running", "failed", "error", "terminated"]);

/** Where provisioning is, in words: "Step N of M: <label>" while it runs. */
export function stepOf(a: { status: string; vmStatus: string }, steps: StepView[]): string {
  const suffix = (text: string) => (stoppedAt(steps) ? `${text} (at ${stoppedAt(steps)})` : text);
  switch (a.status) {
    case "new": return steps.some((s) => s.state === "current") ? stepHeadline(steps)! : `${stepHeadline(steps)} (queued: waiting for a worker)`;
    case "waiting": return `${stepHeadline(steps)} (VM ${a.vmStatus})`;
    case "configuring": return stepHeadline(steps) ?? "Configuring";
    // The status's own word (docs/glossary.md), not a third one ("Provisioned") for the same state.
    case "running": return "All steps done: running";
    // A cancel ends its step as "cancelled" (lifecycle's endsSteps), in either final status.
    case "failed":
    case "error": return suffix(steps.some((s) => s.state === "cancelled") ? "Provisioning was cancelled" : a.status === "failed" ? "Provisioning failed" : "The VM never came up");
    default: return "Terminated";
  }
}

/**
 * How long provisioning took (launch → running, failed or error), or has taken so far; null when
 * that is not recorded. Provisioning ends with its last step, so a later status change (a
 * termination) does not count; an appserver from before steps were recorded falls back on its
 * final status change, except a terminated one, whose status changed when it was terminated.
 */
export function provisioningMs(
  a: { status: string; createdAt: Date; statusChangedAt: Date; steps: { endedAt: Date | null }[] }, now: Date,
): number | null {
  if (!FINAL.has(a.status)) return now.getTime() - a.createdAt.getTime();
  const ends = a.steps.map((s) => s.endedAt?.getTime() ?? 0).filter((t) => t > 0);
  if (ends.length) return Math.max(...ends) - a.createdAt.getTime();
  return a.status === "terminated" ? null : a.statusChangedAt.getTime() - a.createdAt.getTime();
}

/** The authenticated link, and the same with the password masked for whoever may not see it. */
export function authenticatedLink(secrets: Deps["secrets"], instance: { secretKeyEncrypted: string }, ip: string | null, port: number, reveal: boolean): string | null {
  if (!ip) return null;
  const auth = basicAuthFor(secrets, instance);
  const host = port === 80 ? ip : `${ip}:${port}`;
  return `http://${encodeURIComponent(auth.user)}:${reveal ? encodeURIComponent(auth.password) : MASK}@${host}/`;
}

/** What the page shows of a frozen configuration: nothing secret (the variables' YAML is masked). */
interface SnapshotView {
  recipe: ConfigSnapshot["recipe"];
  /** How the playbook ran; not its bootstrap command, which may hold a secret (maskedSettings). */
  playbook: Omit<ConfigSnapshot["playbook"], "bootstrapCommand">;
  /** The instance settings the page names. */
  settings: { edxPlatformRepoUrl?: unknown; edxPlatformBranch?: unknown; internalLmsDomain?: unknown };
  launchedAt: string;
  /** Where the authenticated link points (httpPortOf). */
  httpPort: number;
  variablesYaml: string;
}

/**
 * The page's view of a snapshot, by the stored snapshot's digest: a snapshot does not change after
 * its launch. Masking and writing its variables' YAML took 0.6–1.0 ms of every view with the bench's
 * 13 variables (a real merged base has ~150), an eighth of the page's CPU; reading the snapshot (zod,
 * every variable) is 4 µs at 13 variables and 22–31 µs at 150 in a loop, 2.7 % of the page's CPU in a
 * profile under load (issue 17, bench/README.md); sending the snapshot with every view's row, 5 KB of
 * its JSON, cost more again (one web process, wrk -c20, 4 rounds alternately: 793–1,082 req/s with
 * it, 909–1,270 without). Only what the page shows is kept, no secret; 1,000
 * snapshots' worth, a few MB. An unreadable snapshot is not kept: it is told anew, with its name.
 */
const snapshotViews = new LRUCache<string, SnapshotView>({ max: 1000 });

/** The view of the snapshot with this digest; the snapshot itself is read only when it is not kept. */
async function snapshotView(deps: Pick<Deps, "db">, appServerId: number, digest: string, appServerName: string): Promise<SnapshotView> {
  let view = snapshotViews.get(digest);
  if (view === undefined) {
    const row = await deps.db.appServer.findUnique({ where: { id: appServerId }, select: { configSnapshot: true } });
    if (!row) throw notFound("AppServer");
    const snapshot = readSnapshot(row.configSnapshot, appServerName);
    const { edxPlatformRepoUrl, edxPlatformBranch, internalLmsDomain } = snapshot.instance;
    const { bootstrapCommand: _secretMaybe, ...playbook } = snapshot.playbook;
    view = {
      recipe: snapshot.recipe,
      playbook,
      settings: { edxPlatformRepoUrl, edxPlatformBranch, internalLmsDomain },
      launchedAt: snapshot.launchedAt,
      httpPort: httpPortOf(snapshot),
      // Sorted by name: the merged base has ~150 names, and an operator looks one up.
      variablesYaml: ansibleYaml(maskTree(snapshot.variables, createMasker(snapshotSecrets(snapshot))), { sortMapEntries: true }),
    };
    snapshotViews.set(digest, view);
  }
  return view;
}

type StepRow = { name: string; position: number; startedAt: Date; endedAt: Date | null; outcome: AppServerStepOutcome | null };

/** The appserver's timestamps and BIGINT as JSON gives them. */
type AppServerJson = Omit<AppServer, "configSnapshot" | "lastActivatedAt" | "terminatedAt" | "createdAt" | "updatedAt" | "statusChangedAt" | "logOffset"> & {
  lastActivatedAt: string | null; terminatedAt: string | null; createdAt: string; updatedAt: string; statusChangedAt: string; logOffset: number;
};

function appServerOf<T extends AppServerJson>(a: T): Omit<T, keyof AppServerJson> & Omit<AppServer, "configSnapshot"> {
  return {
    ...a,
    lastActivatedAt: jsonTimestamp(a.lastActivatedAt),
    terminatedAt: jsonTimestamp(a.terminatedAt),
    createdAt: jsonTimestamp(a.createdAt),
    updatedAt: jsonTimestamp(a.updatedAt),
    statusChangedAt: jsonTimestamp(a.statusChangedAt),
    logOffset: BigInt(a.logOffset),
  };
}

type DetailRow = AppServerJson & LogPageColumns & {
  /** md5 of the stored snapshot: what its masked YAML is cached by. */
  snapshotDigest: string;
  instance: { id: number; name: string; pullRequestUrl: string | null };
  instanceSecretKeyEncrypted: string;
  /** The instance's active appservers by number (JSON). */
  active: { id: number; name: string }[];
  /** Its provisioning steps (JSON: timestamps as text). */
  steps: (Omit<StepRow, "startedAt" | "endedAt"> & { startedAt: string; endedAt: string | null })[];
  /** Whether the SSH-access sync holds a GitHub key of the viewer's (getSshCommand). */
  viewerHasGithubKey: boolean;
};

/**
 * The appserver with its instance, the instance's active appservers and its steps in one raw
 * statement, read as one JSON value (readJson: a prepared statement when the setting is on). As a
 * Prisma model query with those relations it cost the web process 3.7–5.1 ms of CPU per view (Prisma
 * 6 compiles every model query on the event loop) against about 0.6 ms, and the appserver page
 * answered 1.27× the Django change form instead of issue 17's 6× (bench/README.md).
 */
// Every column but the snapshot: its digest says whether the page's view of it is kept
// (snapshotView), which is nearly always; the snapshot (5 KB in the bench, several times that with a
// real merged base) is read apart only when it is not. Sent and parsed on every view, it was a third
// of the row's JSON.
const DETAIL_COLUMNS = Prisma.raw(
  Object.values(Prisma.AppServerScalarFieldEnum).filter((c) => c !== "configSnapshot").map((c) => `a."${c}"`).join(", "),
);

function readDetail(deps: Pick<Deps, "db">, key: AppServerKey & { logTail: number; viewer: string }) {
  const where = "appServerId" in key ? Prisma.sql`a.id = ${key.appServerId}` : Prisma.sql`a."instanceId" = ${key.instanceId} AND a.number = ${key.number}`;
  return readJson<DetailRow>(deps.db, Prisma.sql`
    SELECT ${DETAIL_COLUMNS}, md5(a."configSnapshot"::text) AS "snapshotDigest", json_build_object('id', i.id, 'name', i.name, 'pullRequestUrl', i."pullRequestUrl") AS instance,
      i."secretKeyEncrypted" AS "instanceSecretKeyEncrypted",
      (SELECT coalesce(json_agg(json_build_object('id', o.id, 'name', o.name) ORDER BY o.number), '[]')
       FROM "AppServer" o WHERE o."instanceId" = a."instanceId" AND o."isActive") AS active,
      (SELECT coalesce(json_agg(json_build_object('name', s.name, 'position', s.position, 'startedAt', s."startedAt",
                 'endedAt', s."endedAt", 'outcome', s.outcome)), '[]')
       FROM "AppServerStep" s WHERE s."appServerId" = a.id) AS steps,
      ${hasGithubKeySql(key.viewer)} AS "viewerHasGithubKey",
      ${logPageColumns(Prisma.raw("a.id"), { limit: key.logTail })}
    FROM "AppServer" a JOIN "Instance" i ON i.id = a."instanceId"
    WHERE ${where}`, { prepared: true });
}

/**
 * By its page's address (instance and number) or its id, if it exists and the user may see it, with
 * the newest `logTail` lines of its log: the page's one read.
 */
export async function getAppServerDetail(deps: Pick<Deps, "db" | "secrets" | "now">, input: AppServerKey & { user: SessionUser; logTail: number }) {
  const [row] = await readDetail(deps, { ...input, viewer: input.user.githubLogin });
  const { instanceSecretKeyEncrypted, active, steps: stepRows, lines, firstSeq, snapshotDigest, viewerHasGithubKey, ...json } = viewableOrThrow(input.user, row ?? null);
  const a = appServerOf(json);
  const stepsRead: StepRow[] = stepRows.map((s) => ({ ...s, startedAt: jsonTimestamp(s.startedAt), endedAt: jsonTimestamp(s.endedAt) }));
  // A snapshot that cannot be read (readSnapshot's error) is said on the page; the rest of the page
  // (status, log, the actions) still works, so the appserver can be terminated. Any other error
  // goes on: an appserver deleted since its row was read (its instance's deletion) is not found.
  let snapshot: SnapshotView | null = null;
  let snapshotError: string | null = null;
  try {
    snapshot = await snapshotView(deps, a.id, snapshotDigest, a.name);
  } catch (err) {
    if (!(err instanceof AppError && err.code === "internal")) throw err;
    snapshotError = err.message;
  }
  const reveal = maySeeSecrets(input.user);
  const now = deps.now();
  // Durations of ended steps; the one in progress counts "so far" up to this render.
  const steps = describeSteps(stepsRead, now);
  return {
    ...a,
    // What "Activate and deactivate the others" would deactivate.
    otherActive: active.filter((o) => o.id !== a.id),
    createdBy: a.createdByLogin || null,
    step: stepOf(a, steps),
    steps,
    elapsedMs: provisioningMs({ ...a, steps: stepsRead }, now),
    // A terminated appserver's VM is gone, and its address may already be another VM's.
    publicIp: a.status === "terminated" ? null : a.publicIp,
    ipReleased: a.status === "terminated" && a.publicIp !== null,
    link: a.status === "terminated" || !snapshot ? null : authenticatedLink(deps.secrets, { secretKeyEncrypted: instanceSecretKeyEncrypted }, a.publicIp, snapshot.httpPort, reveal),
    linkHasPassword: reveal,
    settings: snapshot?.settings ?? {},
    playbook: snapshot?.playbook ?? null,
    recipe: snapshot?.recipe ?? null,
    variablesYaml: snapshot?.variablesYaml ?? "",
    launchedAt: snapshot?.launchedAt ?? null,
    snapshotError,
    viewerHasGithubKey,
    /** The newest `logTail` lines of its log. */
    logTail: logPageOf({ lines, firstSeq }, { limit: input.logTail }),
  };
}
