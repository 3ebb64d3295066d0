// The provisioning job (DESIGN §5): resumable steps, each idempotent, so a worker that dies is
// replaced by another that picks up where it stopped.
//   new → waiting: the VM is created (named deterministically, so a retry finds it);
//   waiting → configuring: the VM answers on SSH; variables uploaded, repo cloned, playbook started
//   detached on the VM (stepCursor = "playbook-started");
//   configuring → running | failed: the log file is tailed from the stored byte offset until the
//   exit-code file appears. A failed VM is kept for debugging; a VM that never came up is deleted.
import type { Deps } from "../../deps.js";
import type { ConfigSnapshot } from "../appservers/launch-appserver.js";
import { FINAL_STATUSES, moveAppServerNow, type TransitionInput, type TransitionName } from "../appservers/lifecycle.js";
import { AppError } from "../../errors.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import type { ProvisioningPorts, Vm, VmProvider, VmShell } from "./ports.js";
import { shellQuote } from "../../adapters/ssh/quote.js";
import { cloneCommand, killCommand, remotePaths, startCommand, varsFile, type RemotePaths } from "./remote.js";
import { tailPlaybook } from "./tail-playbook.js";
import { createRunLog, type RunLog } from "./run-log.js";
import { failureSummaryFromLog } from "./summarize-log.js";

export const PLAYBOOK_STARTED = "playbook-started";

/** A lifecycle transition in its own transaction (its live event goes out through the outbox). */
function transition(deps: Deps, id: number, name: TransitionName, set: TransitionInput["set"] = {}) {
  return moveAppServerNow(deps, name, { appServerId: id, set });
}
const POLL_MS = 1_000;

export function vmNameFor(snapshot: ConfigSnapshot, number: number): string {
  return `${String(snapshot.instance.slug)}-as${number}`;
}

export interface ProvisionOptions {
  /** Aborted when the worker shuts down: the job stops where it is and resumes later. */
  signal?: AbortSignal;
  pollMs?: number;
}

export async function provisionAppServer(deps: Deps, input: { appServerId: number }, ports: ProvisioningPorts, opts: ProvisionOptions = {}): Promise<string> {
  const load = () => deps.db.appServer.findUnique({ where: { id: input.appServerId } });
  let as = await load();
  if (!as) return "gone";
  if (FINAL_STATUSES.includes(as.status)) return as.status;
  const snapshot = as.configSnapshot as unknown as ConfigSnapshot;
  const log = createRunLog(deps, as.id, snapshotSecrets(snapshot));
  try {
    const provider = ports.provider(as.providerKind);
    if (as.status === "new") {
      await transition(deps, as.id, "vmRequested");
      await log.info(`Requesting VM ${vmNameFor(snapshot, as.number)} from the ${as.providerKind} provider.`);
      as = (await load())!;
    }
    let vm: Vm | null = null;
    if (as.status === "waiting") {
      vm = await ensureVm(deps, as.id, provider, vmNameFor(snapshot, as.number), as.providerServerId, log);
      vm = await waitForVm(deps, as.id, provider, vm, as.statusChangedAt, log, opts);
      if (!vm) return "error";
      await transition(deps, as.id, "vmReady", { publicIp: vm.publicIp, vmStatus: "ready" });
      as = (await load())!;
    }
    if (as.status !== "configuring") return as.status;
    vm ??= await provider.getServer(as.providerServerId ?? "");
    if (!vm) throw new AppError("unavailable", `The provider no longer knows the VM ${as.providerServerId}.`);
    return await configure(deps, as.id, provider, vm, snapshot, ports, log, opts);
  } finally {
    await log.close();
  }
}

async function ensureVm(deps: Deps, id: number, provider: VmProvider, name: string, knownId: string | null, log: RunLog): Promise<Vm> {
  const existing = (knownId ? await provider.getServer(knownId) : null) ?? (await provider.findServerByName(name));
  const vm = existing ?? (await provider.createServer({ name }));
  await log.info(existing ? `Found VM ${name} (${vm.id}) from an earlier attempt.` : `Created VM ${name} (${vm.id}).`);
  await transition(deps, id, "vmCreated", { providerServerId: vm.id, vmStatus: vm.status });
  return vm;
}

/** Polls until the VM answers on SSH; on the deadline or a failed VM: status error, VM deleted. */
async function waitForVm(deps: Deps, id: number, provider: VmProvider, vm: Vm, since: Date, log: RunLog, opts: ProvisionOptions): Promise<Vm | null> {
  const deadline = since.getTime() + deps.config.VM_READY_TIMEOUT_MINUTES * 60_000;
  let current: Vm | null = vm;
  let lastStatus = "";
  while (current && current.status !== "ready") {
    if (current.status !== lastStatus) {
      lastStatus = current.status;
      await transition(deps, id, "vmProgress", { vmStatus: current.status });
      await log.info(`VM is ${current.status}.`);
    }
    const cancelled = (await deps.db.appServer.findUnique({ where: { id }, select: { status: true } }))?.status !== "waiting";
    if (current.status === "failed" || deps.now().getTime() > deadline || cancelled) {
      const why = cancelled ? "Cancelled while waiting for the VM." : current.status === "failed" ? "The provider reports the VM as failed." : `The VM did not become reachable within ${deps.config.VM_READY_TIMEOUT_MINUTES} minutes.`;
      await provider.deleteServer(current.id);
      await transition(deps, id, cancelled ? "vmGone" : "error", cancelled ? { vmStatus: "terminated" } : { failureSummary: why, vmStatus: "terminated" });
      await log.error(`${why} The VM was deleted.`);
      return null;
    }
    opts.signal?.throwIfAborted();
    await new Promise((r) => setTimeout(r, opts.pollMs ?? POLL_MS));
    current = await provider.getServer(current.id);
  }
  if (!current) throw new AppError("unavailable", "The VM disappeared while booting.");
  await log.info(`VM is ready at ${current.publicIp}.`);
  return current;
}

async function configure(deps: Deps, id: number, provider: VmProvider, vm: Vm, snapshot: ConfigSnapshot, ports: ProvisioningPorts, log: RunLog, opts: ProvisionOptions): Promise<string> {
  const shell = await ports.connect(provider, vm, deps.config.SSH_CONNECT_TIMEOUT_SECONDS * 1000);
  try {
    const paths = remotePaths(vm.workDir);
    const as = await deps.db.appServer.findUniqueOrThrow({ where: { id } });
    if (as.stepCursor !== PLAYBOOK_STARTED) {
      await startPlaybook(shell, paths, snapshot, log);
      await transition(deps, id, "playbookStarted", { stepCursor: PLAYBOOK_STARTED });
    } else {
      await log.info(`Re-attaching to the playbook log at byte ${as.logOffset}.`);
    }
    const outcome = await tailPlaybook(deps, { appServerId: id, shell, paths, log, signal: opts.signal, pollMs: opts.pollMs });
    return await finish(deps, id, outcome, shell, paths, log);
  } finally {
    await shell.close();
  }
}

async function startPlaybook(shell: VmShell, paths: RemotePaths, snapshot: ConfigSnapshot, log: RunLog): Promise<void> {
  await log.info("Uploading the playbook variables.");
  const mk = await shell.exec(`mkdir -p ${shellQuote(paths.dir)}`, { timeoutMs: 60_000 });
  if (mk.code !== 0) throw new AppError("unavailable", `Could not create ${paths.dir} on the VM: ${mk.stderr.trim()}`);
  await shell.uploadFile(paths.vars, varsFile(snapshot), 0o600);
  await log.info(`Cloning ${snapshot.playbook.repoUrl} at ${snapshot.playbook.branch}.`);
  const clone = await shell.exec(cloneCommand(paths, snapshot), { timeoutMs: 15 * 60_000 });
  for (const line of `${clone.stdout}${clone.stderr}`.split("\n").filter(Boolean)) await log.info(line);
  if (clone.code !== 0) throw new PlaybookNotStarted(`Cloning the configuration repository failed (exit ${clone.code}).`);
  const start = await shell.exec(startCommand(paths, snapshot), { timeoutMs: 60_000 });
  if (start.code !== 0) throw new PlaybookNotStarted(`Starting the playbook failed: ${start.stderr.trim()}`);
  await log.info(`Started ansible-playbook ${snapshot.playbook.path} on the VM.`);
}

/** A configuration problem (bad repo, branch, bootstrap) — retrying cannot help. */
export class PlaybookNotStarted extends Error {}

async function finish(deps: Deps, id: number, outcome: Awaited<ReturnType<typeof tailPlaybook>>, shell: VmShell, paths: RemotePaths, log: RunLog): Promise<string> {
  if (outcome.kind === "cancelled") {
    await shell.exec(killCommand(paths), { timeoutMs: 30_000 });
    await log.warn("Provisioning was cancelled; the playbook was stopped. The VM is kept.");
    return "failed";
  }
  if (outcome.kind === "timeout") {
    await shell.exec(killCommand(paths), { timeoutMs: 30_000 });
    await transition(deps, id, "failed", { failureSummary: outcome.reason });
    await log.error(`${outcome.reason} The playbook was stopped; the VM is kept for debugging.`);
    return "failed";
  }
  if (outcome.exitCode === 0) {
    await transition(deps, id, "succeeded", { failureSummary: "" });
    await log.info("The playbook finished successfully. The appserver is running.");
    return "running";
  }
  const summary = (await failureSummaryFromLog(deps, id)) || `The playbook exited with code ${outcome.exitCode}.`;
  await transition(deps, id, "failed", { failureSummary: summary });
  await log.error(`The playbook failed (exit ${outcome.exitCode}). ${summary} The VM is kept: SSH in to debug.`);
  return "failed";
}
