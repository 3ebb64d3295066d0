// The provisioning steps (steps.ts lists them in order), each a small function that is safe to run
// again: a retried or resumed job re-runs the current step from its start.
//   prepare-data   ensures the instance's databases, users and bucket on its data services;
//   create-vm      finds the VM by id, then by its deterministic name, before creating one;
//   wait-vm        polls the VM until it answers on SSH (deadline from the status change);
//   upload-vars    rewrites vars.yml;   clone  reuses an earlier clone (or uploads a shipped playbook again);
//   start-playbook a marker file on the VM makes a second start a no-op;
//   tail           reads playbook.log from the stored byte offset until the exit file appears;
//   finish         reads the exit file: failed, or on to the next step;
//   wait-heartbeat polls /heartbeat until it answers 200 (running) or the deadline (failed),
//                  counted from the step's recorded start, so a resumed job keeps the deadline.
// A step that commits a transition ends in that transition's transaction (`completesStep`); the
// others end in their own once their work is done. A step returns a status to stop the job there.
import type { Deps } from "../../deps.js";
import type { ConfigSnapshot } from "../appservers/config-snapshot.js";
import { announceProgress, moveAppServerNow, type TransitionInput, type TransitionName } from "../appservers/lifecycle.js";
import { AppError } from "../../errors.js";
import { shellQuote } from "../../adapters/ssh/quote.js";
import { SshError, type ExecResult } from "../../adapters/ssh/port.js";
import type { Vm, VmProvider, VmShell } from "./ports.js";
import { cloneCommand, killCommand, startCommand, varsFile, type RemotePaths } from "./remote.js";
import { tailPlaybook } from "./tail-playbook.js";
import { stopCancelledPlaybook } from "./stop-playbook.js";
import { readShippedPlaybook, type ShippedFile } from "./shipped-playbook.js";
import type { RunLog } from "./run-log.js";
import { failureSummaryFromLog } from "./summarize-log.js";
import { endStep, startStep, type StepName } from "./steps.js";
import { prepareInstanceData } from "../data/prepare-instance-data.js";
import { httpPortOf, probeHeartbeat } from "../appservers/health-gate.js";
import { basicAuthFor } from "../instances/secret.js";
import { createMasker } from "../secrets/mask-secrets.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import { DataServiceError } from "../../adapters/data/port.js";
import type { AppServerStatus } from "../../generated/prisma/enums.ts";

const POLL_MS = 1_000;
// An Open edX that is starting answers within minutes; polling every few seconds is plenty.
const HEARTBEAT_POLL_MS = 5_000;

export interface StepContext {
  deps: Deps;
  id: number;
  number: number;
  snapshot: ConfigSnapshot;
  provider: VmProvider;
  providerKind: string;
  log: RunLog;
  signal?: AbortSignal;
  pollMs?: number;
  /** This step had started in an earlier run (a resume). */
  resumed: boolean;
  /** The VM of the appserver (by its stored id), fetched once per run. */
  vm(): Promise<Vm>;
  /** One SSH session per run, opened when a step first needs it. */
  shell(): Promise<VmShell>;
  paths(): Promise<RemotePaths>;
}

/** A step's function: undefined to go on, or the status the job stops with. */
type StepRun = (ctx: StepContext) => Promise<AppServerStatus | undefined>;

export interface StepSpec {
  /** The statuses it runs in; any other means someone else moved the appserver (a cancel). */
  runsIn: readonly AppServerStatus[];
  run: StepRun;
}

/** A lifecycle transition in its own transaction (its live event goes out through the outbox). */
function transition(ctx: StepContext, name: TransitionName, set: TransitionInput["set"] = {}, completesStep?: StepName) {
  return moveAppServerNow(ctx.deps, name, { appServerId: ctx.id, set, completesStep });
}

export function vmNameFor(snapshot: ConfigSnapshot, number: number): string {
  return vmName(String(snapshot.instance.slug), number);
}

/** The VM of an instance's appserver N: also its COMMON_HOSTNAME (variables.ts). */
export function vmName(slug: string, number: number): string {
  return `${slug}-as${number}`;
}

/**
 * Before any VM: the instance's data on its shared services. It reads the instance's CURRENT
 * services, not the frozen snapshot: the data belongs to the instance, and every appserver of it
 * must use the same. A refusal ends the appserver in error with no VM; a hiccup is thrown for the
 * worker's retry rule (DataServiceError.transient).
 */
async function prepareData(ctx: StepContext): Promise<AppServerStatus | undefined> {
  const { instanceId } = await ctx.deps.db.appServer.findUniqueOrThrow({ where: { id: ctx.id }, select: { instanceId: true } });
  try {
    await prepareInstanceData(ctx.deps, { instanceId, say: (line) => ctx.log.info(line) });
  } catch (err) {
    if (!(err instanceof DataServiceError) || err.transient) throw err;
    const summary = `Preparing the instance's data failed: ${err.message}`;
    await transition(ctx, "error", { failureSummary: summary });
    await ctx.log.error(`${summary} No VM was requested.`);
    return "error";
  }
  return ended(ctx, "prepare-data");
}

async function createVm(ctx: StepContext): Promise<undefined> {
  const name = vmNameFor(ctx.snapshot, ctx.number);
  const as = await ctx.deps.db.appServer.findUniqueOrThrow({ where: { id: ctx.id }, select: { status: true, providerServerId: true } });
  if (as.status === "new") {
    await transition(ctx, "vmRequested");
    await ctx.log.info(`Requesting VM ${name} from the ${ctx.providerKind} provider.`);
  }
  const existing = (as.providerServerId ? await ctx.provider.getServer(as.providerServerId) : null) ?? (await ctx.provider.findServerByName(name));
  const vm = existing ?? (await ctx.provider.createServer({ name }));
  await ctx.log.info(existing ? `Found VM ${name} (${vm.id}) from an earlier attempt.` : `Created VM ${name} (${vm.id}).`);
  await transition(ctx, "vmCreated", { providerServerId: vm.id, vmStatus: vm.status }, "create-vm");
  return undefined;
}

/**
 * Why a VM was not ready by the deadline, in the terms of what to check: still being built by the
 * provider (its capacity, the image), or up at an address whose SSH port never answered (a security
 * group, the SSH port setting, a floating IP that does not route here).
 */
function notReadyReason(vm: Vm, minutes: number): string {
  const within = `within ${minutes} ${minutes === 1 ? "minute" : "minutes"}`;
  if (vm.status === "booting" && vm.publicIp) {
    return `The VM is up, but SSH at ${vm.publicIp}:${vm.sshPort} did not answer ${within}: check that its security group lets this host reach TCP ${vm.sshPort}, and the provider account's SSH port.`;
  }
  if (vm.status === "booting") return `The VM is up, but got no address Ocim can reach ${within}.`;
  return `The provider was still ${vm.status === "building" ? "building" : `reporting "${vm.status}" for`} the VM after ${minutes} ${minutes === 1 ? "minute" : "minutes"} (VM_READY_TIMEOUT_MINUTES).`;
}

/** Polls until the VM answers on SSH; on the deadline or a failed VM: status error, VM deleted. */
async function waitVm(ctx: StepContext): Promise<AppServerStatus | undefined> {
  const { deps, id, provider, log } = ctx;
  const since = (await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { statusChangedAt: true } })).statusChangedAt;
  const deadline = since.getTime() + deps.config.VM_READY_TIMEOUT_MINUTES * 60_000;
  let current: Vm | null = await ctx.vm();
  let lastStatus = "";
  while (current && current.status !== "ready") {
    if (current.status !== lastStatus) {
      lastStatus = current.status;
      await transition(ctx, "vmProgress", { vmStatus: current.status });
      await log.info(`VM is ${current.status}.`);
    }
    const cancelled = (await deps.db.appServer.findUnique({ where: { id }, select: { status: true } }))?.status !== "waiting";
    if (current.status === "failed" || deps.now().getTime() > deadline || cancelled) {
      const why = cancelled ? "Cancelled while waiting for the VM." : current.status === "failed" ? current.fault ? `The provider reports the VM as failed: ${current.fault.replace(/\.?$/, ".")}` : "The provider reports the VM as failed." : notReadyReason(current, deps.config.VM_READY_TIMEOUT_MINUTES);
      await provider.deleteServer(current.id);
      await transition(ctx, cancelled ? "vmGone" : "error", cancelled ? { vmStatus: "terminated" } : { failureSummary: why, vmStatus: "terminated" });
      await log.error(`${why} The VM was deleted.`);
      return "error";
    }
    ctx.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, ctx.pollMs ?? POLL_MS));
    current = await provider.getServer(current.id);
  }
  if (!current) throw new AppError("unavailable", "The VM disappeared while booting.");
  await log.info(`VM is ready at ${current.publicIp}.`);
  const stop = await waitCloudInit(ctx, deadline);
  if (stop) return stop;
  await transition(ctx, "vmReady", { publicIp: current.publicIp, sshPort: current.sshPort, vmStatus: "ready" }, "wait-vm");
  return undefined;
}

/**
 * SSH answering is not the end of a VM's first boot: cloud-init may still be writing users and keys
 * and running apt, whose lock the playbook's apt would then fight for. `cloud-init status --wait`
 * returns once it is done, within what is left of the VM-ready deadline. Its exit codes (cloud-init
 * docs, "Failure states" and "Why did cloud-init status start returning exit code 2?"): 0 done,
 * 1 error, 2 done with recoverable errors (23.4 and later; older ones and some distributions say 0).
 * An error ends the launch with cloud-init's own detail; the VM is kept to read its logs. A VM
 * without cloud-init (the local provider's) has nothing to wait for.
 */
async function waitCloudInit(ctx: StepContext, deadline: number): Promise<AppServerStatus | undefined> {
  const { deps, log } = ctx;
  const shell = await ctx.shell();
  const minutes = deps.config.VM_READY_TIMEOUT_MINUTES;
  await log.info("Waiting for cloud-init to finish the VM's first boot (cloud-init status --wait).");
  let res: ExecResult;
  try {
    res = await shell.exec("cloud-init status --wait", { timeoutMs: Math.max(deadline - deps.now().getTime(), 10_000) });
  } catch (err) {
    if (!(err instanceof SshError && err.reason === "command_timeout")) throw err;
    res = { code: TIMED_OUT, stdout: "", stderr: "" };
  }
  // --wait prints a dot every few seconds while it waits, then "status: …".
  const said = `${res.stdout}\n${res.stderr}`.replace(/^\.+/gm, "").trim().split("\n").filter(Boolean).pop() ?? "";
  if (res.code === COMMAND_NOT_FOUND) return void (await log.info("This VM has no cloud-init: nothing to wait for."));
  if (res.code === 0) return void (await log.info(`cloud-init is done (${said}).`));
  if (res.code === 2) return void (await log.warn(`cloud-init is done with recoverable errors (${said}); going on. SSH in and run cloud-init status --long for the detail.`));
  let summary: string;
  if (res.code === TIMED_OUT) summary = `cloud-init did not finish within ${minutes} minutes of the VM's creation.`;
  else {
    const long = await shell.exec("cloud-init status --long", { timeoutMs: 60_000 });
    for (const line of long.stdout.split("\n").filter((l) => l.trim())) await log.info(line);
    const errors = cloudInitErrors(long.stdout);
    summary = `cloud-init failed on the VM (exit ${res.code}, ${said || "no status"})${errors ? `: ${errors.slice(0, 500)}` : "."}`;
  }
  await transition(ctx, "error", { failureSummary: summary });
  await log.error(`${summary} The VM is kept: SSH in and read /var/log/cloud-init.log and /var/log/cloud-init-output.log.`);
  return "error";
}

/** The entries under "errors:" of `cloud-init status --long`, or its "detail:" line when it lists none. */
function cloudInitErrors(long: string): string {
  const listed: string[] = [];
  let inErrors = false;
  let detail = "";
  for (const line of long.split("\n")) {
    if (/^\S/.test(line)) inErrors = line.trim() === "errors:";
    if (line.startsWith("detail:")) detail = line.slice("detail:".length).trim();
    else if (inErrors && /^\s+- /.test(line)) listed.push(line.trim().slice(2));
  }
  return listed.length ? listed.join("; ") : detail;
}

/** The shell's exit code for a command it cannot find, and coreutils timeout's when it stopped it. */
const COMMAND_NOT_FOUND = 127;
const TIMED_OUT = 124;

/** Ends a step that commits nothing but its own work on the VM. */
async function ended(ctx: StepContext, name: StepName): Promise<undefined> {
  await ctx.deps.db.$transaction(async (tx) => {
    await endStep(tx, ctx.deps, ctx.id, name);
    await announceProgress(tx, ctx.id);
  });
  return undefined;
}

/** Records a step's start; the first time, open pages are told (its "so far" starts counting there). */
export async function beginStep(deps: Pick<Deps, "db" | "now">, appServerId: number, name: StepName): Promise<void> {
  await deps.db.$transaction(async (tx) => {
    if (await startStep({ db: tx, now: deps.now }, appServerId, name)) await announceProgress(tx, appServerId);
  });
}

async function uploadVars(ctx: StepContext): Promise<undefined> {
  const [shell, paths] = [await ctx.shell(), await ctx.paths()];
  await ctx.log.info("Uploading the playbook variables.");
  const mk = await shell.exec(`mkdir -p ${shellQuote(paths.dir)}`, { timeoutMs: 60_000 });
  if (mk.code !== 0) throw new AppError("unavailable", `Could not create ${paths.dir} on the VM: ${mk.stderr.trim()}`);
  await shell.uploadFile(paths.vars, varsFile(ctx.snapshot), 0o600);
  return ended(ctx, "upload-vars");
}

async function clone(ctx: StepContext): Promise<undefined> {
  const [shell, paths, { playbook }] = [await ctx.shell(), await ctx.paths(), ctx.snapshot];
  if (playbook.shipped) return uploadShipped(ctx, playbook.shipped);
  await ctx.log.info(`Cloning ${playbook.repoUrl} at ${playbook.branch}.`);
  const res = await shell.exec(cloneCommand(paths, ctx.snapshot), { timeoutMs: 15 * 60_000 });
  for (const line of `${res.stdout}${res.stderr}`.split("\n").filter(Boolean)) await ctx.log.info(line);
  if (res.code !== 0) {
    // git's first "fatal:" line says why (no such branch or repository); a second one only adds "Could
    // not read from remote repository". Masked as the log is: the URL may carry a token.
    const fatal = res.stderr.split("\n").find((l) => l.startsWith("fatal:"))?.trim();
    const why = fatal ? `: ${createMasker(snapshotSecrets(ctx.snapshot))(fatal)}` : ".";
    throw new PlaybookNotStarted(`Cloning the configuration repository failed (exit ${res.code})${why}`);
  }
  return ended(ctx, "clone");
}

/** The playbook ships with Ocim: its files go where the clone would be, replacing an earlier upload's. */
async function uploadShipped(ctx: StepContext, name: string): Promise<undefined> {
  const [shell, paths] = [await ctx.shell(), await ctx.paths()];
  let files: ShippedFile[];
  try {
    files = readShippedPlaybook(name);
  } catch (err) {
    throw new PlaybookNotStarted(err instanceof AppError ? err.message : String(err));
  }
  await ctx.log.info(`Uploading Ocim's ${name} playbook (${files.length} files).`);
  const dirs = [...new Set(files.map((f) => `${paths.repo}/${f.relative}`.replace(/\/[^/]*$/, "")))];
  const mk = await shell.exec(`mkdir -p ${dirs.map(shellQuote).join(" ")}`, { timeoutMs: 60_000 });
  if (mk.code !== 0) throw new AppError("unavailable", `Could not create ${paths.repo} on the VM: ${mk.stderr.trim()}`);
  for (const f of files) await shell.uploadFile(`${paths.repo}/${f.relative}`, f.content, 0o644);
  return ended(ctx, "clone");
}

async function startPlaybook(ctx: StepContext): Promise<undefined> {
  const start = await (await ctx.shell()).exec(startCommand(await ctx.paths(), ctx.snapshot), { timeoutMs: 60_000 });
  if (start.code !== 0) throw new PlaybookNotStarted(`Starting the playbook failed: ${start.stderr.trim()}`);
  await transition(ctx, "playbookStarted", {}, "start-playbook");
  await ctx.log.info(`Started ansible-playbook ${ctx.snapshot.playbook.path} on the VM.`);
  return undefined;
}

/** A configuration problem (bad repo, branch, bootstrap) — retrying cannot help. */
export class PlaybookNotStarted extends Error {}

async function tail(ctx: StepContext): Promise<AppServerStatus | undefined> {
  const [shell, paths, { deps, id, log }] = [await ctx.shell(), await ctx.paths(), ctx];
  if (ctx.resumed) {
    const { logOffset } = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { logOffset: true } });
    await log.info(`Re-attaching to the playbook log at byte ${logOffset}.`);
  }
  const outcome = await tailPlaybook(deps, { appServerId: id, shell, paths, log, signal: ctx.signal, pollMs: ctx.pollMs });
  if (outcome.kind === "cancelled") {
    await stopCancelledPlaybook(shell, paths, log);
    return "failed";
  }
  if (outcome.kind === "timeout") {
    await shell.exec(killCommand(paths), { timeoutMs: 30_000 });
    await transition(ctx, "failed", { failureSummary: outcome.reason });
    await log.error(`${outcome.reason} The playbook was stopped; the VM is kept for debugging.`);
    return "failed";
  }
  return ended(ctx, "tail");
}

/** Reads the exit code the playbook left on the VM (again on a resume): failed, or on to wait-heartbeat. */
async function finish(ctx: StepContext): Promise<AppServerStatus | undefined> {
  const [shell, paths, { deps, id, log }] = [await ctx.shell(), await ctx.paths(), ctx];
  const exit = await shell.exec(`cat ${shellQuote(paths.exit)}`, { timeoutMs: 30_000 });
  const exitCode = Number.parseInt(exit.stdout.trim(), 10);
  if (exit.code !== 0 || Number.isNaN(exitCode)) throw new AppError("unavailable", `The playbook's exit code could not be read on the VM: ${exit.stderr.trim()}`);
  if (exitCode === 0) {
    await log.info("The playbook finished successfully.");
    return ended(ctx, "finish");
  }
  const summary = (await failureSummaryFromLog(deps, id)) || `The playbook exited with code ${exitCode}.`;
  await transition(ctx, "failed", { failureSummary: summary });
  await log.error(`The playbook failed (exit ${exitCode}). ${summary} The VM is kept: SSH in to debug.`);
  return "failed";
}

/**
 * The playbook exiting 0 says nothing about Open edX answering (services still starting, a broken
 * setting that only shows at the first request): the appserver is `running` once its /heartbeat
 * answers 200 the way the balancer's health check asks, or `failed` with what it last got.
 */
async function waitHeartbeat(ctx: StepContext): Promise<AppServerStatus> {
  const { deps, id, log } = ctx;
  const minutes = deps.config.HEARTBEAT_TIMEOUT_MINUTES;
  const [step, as] = await Promise.all([
    deps.db.appServerStep.findUniqueOrThrow({ where: { appServerId_name: { appServerId: id, name: "wait-heartbeat" } }, select: { startedAt: true } }),
    deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { publicIp: true, instance: { select: { internalLmsDomain: true, secretKeyEncrypted: true } } } }),
  ]);
  if (!as.publicIp) throw new AppError("internal", "The appserver has no IP address to check /heartbeat on.");
  const target = { ip: as.publicIp, port: httpPortOf(ctx.snapshot), auth: basicAuthFor(deps.secrets, as.instance), host: as.instance.internalLmsDomain.toLowerCase() };
  const deadline = step.startedAt.getTime() + minutes * 60_000;
  await log.info(`Waiting up to ${minutes} minutes for /heartbeat on port ${target.port} (Host ${target.host}) to answer 200.`);
  let said = "";
  for (;;) {
    if (await wasCancelled(ctx)) {
      await log.warn("Provisioning was cancelled while waiting for /heartbeat. The VM is kept.");
      return "failed";
    }
    const result = await probeHeartbeat(target);
    if (result.ok) {
      await transition(ctx, "succeeded", { failureSummary: "" }, "wait-heartbeat");
      await log.info(`GET ${result.url} answered 200. The appserver is running.`);
      return "running";
    }
    if (result.got !== said) await log.info(`GET ${result.url} ${(said = result.got)}; trying again.`);
    if (deps.now().getTime() > deadline) {
      const summary = `The playbook succeeded, but /heartbeat did not answer 200 within ${minutes} minutes: GET ${result.url} last ${result.got}.`;
      await transition(ctx, "failed", { failureSummary: summary });
      await log.error(`${summary} The VM is kept: SSH in to debug.`);
      return "failed";
    }
    ctx.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, ctx.pollMs ?? HEARTBEAT_POLL_MS));
  }
}

/** Someone moved the appserver out of `configuring` (the `cancelled` transition). */
async function wasCancelled(ctx: StepContext): Promise<boolean> {
  return (await ctx.deps.db.appServer.findUnique({ where: { id: ctx.id }, select: { status: true } }))?.status !== "configuring";
}

const CONFIGURING = ["configuring"] as const;

export const STEP_RUNS: Record<StepName, StepSpec> = {
  "prepare-data": { runsIn: ["new"], run: prepareData },
  "create-vm": { runsIn: ["new", "waiting"], run: createVm },
  "wait-vm": { runsIn: ["waiting"], run: waitVm },
  "upload-vars": { runsIn: CONFIGURING, run: uploadVars },
  clone: { runsIn: CONFIGURING, run: clone },
  "start-playbook": { runsIn: CONFIGURING, run: startPlaybook },
  tail: { runsIn: CONFIGURING, run: tail },
  finish: { runsIn: CONFIGURING, run: finish },
  "wait-heartbeat": { runsIn: CONFIGURING, run: waitHeartbeat },
};

