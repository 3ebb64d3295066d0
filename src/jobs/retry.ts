// The one retry rule of the worker (STYLE 15): whether a failed job may pass on a later attempt.
// The adapters know their systems and classify their errors (`transient` on ProviderError,
// SshError and DataServiceError, see src/adapters/provider/openstack-api.ts for OpenStack's status codes); this rule
// only reads that classification, so it is never written twice.
import { UnrecoverableError } from "bullmq";
import { AppError } from "../errors.js";
import { ProviderError } from "../adapters/provider/port.js";
import { SshError } from "../adapters/ssh/port.js";
import { DataServiceError } from "../adapters/data/port.js";
import { PlaybookNotStarted } from "../domain/provisioning/provision-appserver.js";

export function retryable(err: unknown): boolean {
  if (err instanceof UnrecoverableError) return false;
  // Refusals (401, 403, 400, 404, an ambiguous 409, a refused SSH key) will be the same on every
  // attempt; 5xx, timeouts, refused connections and an SSH server not up yet may pass.
  // The data services (MySQL, MongoDB, storage) classify the same way: wrong keys or rights, no.
  if (err instanceof ProviderError || err instanceof SshError || err instanceof DataServiceError) return err.transient;
  // A wrong repository, branch or bootstrap command: the same on every attempt.
  if (err instanceof PlaybookNotStarted) return false;
  // Our own errors: a dependency that is down may come back; a rule, a wrong state or bad input won't.
  if (err instanceof AppError) return err.code === "unavailable";
  // Anything else is a dropped connection to PostgreSQL or Redis, or a bug: the backoff gives the
  // former time to come back, and the attempts bound the cost of the latter.
  return true;
}

/**
 * How long BullMQ waits before the next attempt of `job`, which has just failed: its backoff's delay,
 * doubled for each attempt already made when exponential (BullMQ's Backoffs.builtinStrategies).
 */
export function retryDelayMs(job: { attemptsMade: number; opts: { backoff?: number | { type?: string; delay?: number } } }): number {
  const backoff = job.opts.backoff;
  if (typeof backoff === "number") return backoff;
  const delay = backoff?.delay ?? 0;
  return backoff?.type === "exponential" ? delay * 2 ** job.attemptsMade : delay;
}
