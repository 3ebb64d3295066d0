// Everything the appserver page shows: status fields, where provisioning is, the authenticated
// link (its password only for those who may see secrets) and the frozen configuration, masked.
import { stringify as toYaml } from "yaml";
import type { Deps } from "../../deps.js";
import type { SessionUser } from "../auth/login-github-user.js";
import { maySeeSecrets } from "../auth/may-see.js";
import { appServerWhere, viewableOrThrow, type AppServerKey } from "../logs/get-viewable-appserver.js";
import { basicAuthFor } from "../instances/secret.js";
import { createMasker, MASK, maskTree } from "../secrets/mask-secrets.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import { describeSteps, stepHeadline, stoppedAt, type StepView } from "../provisioning/steps.js";
import { readSnapshot, type ConfigSnapshot } from "./config-snapshot.js";
import { AppError } from "../../errors.js";
import { httpPortOf } from "./health-gate.js";

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
    case "failed": return suffix("Provisioning failed or was cancelled");
    case "error": return suffix("The VM never came up");
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

/**
 * By its page's address (instance and number) or its id, if it exists and the user may see it: the
 * page's one read of the appserver (it was a getViewableAppServer first, then this by id: one
 * Prisma query of four fewer, about 1 ms of the web process's CPU per view, bench/README.md).
 */
export async function getAppServerDetail(deps: Pick<Deps, "db" | "secrets" | "now">, input: AppServerKey & { user: SessionUser }) {
  const a = viewableOrThrow(input.user, await deps.db.appServer.findUnique({
    where: appServerWhere(input),
    include: {
      instance: { select: { id: true, name: true, secretKeyEncrypted: true, pullRequestUrl: true, appServers: { where: { isActive: true }, select: { id: true, name: true }, orderBy: { number: "asc" } } } },
      steps: { select: { name: true, position: true, startedAt: true, endedAt: true, outcome: true } },
    },
  }));
  // A snapshot that cannot be read is said on the page; the rest of the page (status, log, the
  // actions) still works, so the appserver can be terminated.
  let snapshot: ConfigSnapshot | null = null;
  let snapshotError: string | null = null;
  try {
    snapshot = readSnapshot(a.configSnapshot, a.name);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    snapshotError = err.message;
  }
  const reveal = maySeeSecrets(input.user);
  const now = deps.now();
  // Durations of ended steps; the one in progress counts "so far" up to this render.
  const steps = describeSteps(a.steps, now);
  const { secretKeyEncrypted: _secret, appServers: active, ...instance } = a.instance;
  return {
    ...a,
    instance,
    // What "Activate and deactivate the others" would deactivate.
    otherActive: active.filter((o) => o.id !== a.id),
    createdBy: a.createdByLogin || null,
    step: stepOf(a, steps),
    steps,
    elapsedMs: provisioningMs(a, now),
    // A terminated appserver's VM is gone, and its address may already be another VM's.
    publicIp: a.status === "terminated" ? null : a.publicIp,
    ipReleased: a.status === "terminated" && a.publicIp !== null,
    link: a.status === "terminated" || !snapshot ? null : authenticatedLink(deps.secrets, a.instance, a.publicIp, httpPortOf(snapshot), reveal),
    linkHasPassword: reveal,
    settings: snapshot?.instance ?? {},
    playbook: snapshot?.playbook ?? null,
    recipe: snapshot?.recipe ?? null,
    // Sorted by name: the merged base has ~150 names, and an operator looks one up.
    variablesYaml: snapshot?.variables ? toYaml(maskTree(snapshot.variables, createMasker(snapshotSecrets(snapshot))), { sortMapEntries: true }) : "",
    launchedAt: snapshot?.launchedAt ?? null,
    snapshotError,
  };
}
