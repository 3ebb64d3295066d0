// Prometheus metrics (prom-client), one registry per Deps. Two kinds:
// - events, counted where they happen, in the process they happen in (a worker's provisioning
//   steps, job failures, balancer applies, stored log lines): each process that runs a role serves
//   its own (the web at /metrics, a worker or scheduler alone at METRICS_PORT); Prometheus sums them;
// - the state of the fleet (appservers by status, queue depths, certificates), read from PostgreSQL
//   and Redis at scrape time by the web process only, so that it is counted once however many
//   workers there are (src/web/routes/metrics.ts adds those collectors).
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  /** A provisioning step's duration, from its recorded start to its end (steps.ts), by outcome. */
  provisioningStepSeconds: Histogram<"step" | "recipe" | "outcome">;
  /** A job attempt that threw; final = no attempt left (or not retryable). */
  jobFailures: Counter<"queue" | "job" | "final">;
  /** One render + check + reload of a balancer; outcome applied | failed. */
  lbApplySeconds: Histogram<"balancer" | "outcome">;
  lbApplyErrors: Counter<"balancer">;
  /** Log lines stored (after masking), all appservers. */
  logLines: Counter;
}

// Provisioning steps last from a second (create-vm on a fast cloud) to two hours (the playbook).
const STEP_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200, 10800];
const APPLY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // CPU, memory, event-loop lag of this process: only for real processes, not each test's Deps.
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "ocim_" });
  const registers = [registry];
  return {
    registry,
    provisioningStepSeconds: new Histogram({
      name: "ocim_provisioning_step_duration_seconds",
      help: "Duration of provisioning steps, by step, recipe and outcome (done, failed).",
      labelNames: ["step", "recipe", "outcome"],
      buckets: STEP_BUCKETS,
      registers,
    }),
    jobFailures: new Counter({
      name: "ocim_job_failures_total",
      help: "Job attempts that failed, by queue and job; final=true when no attempt is left.",
      labelNames: ["queue", "job", "final"],
      registers,
    }),
    lbApplySeconds: new Histogram({
      name: "ocim_lb_apply_duration_seconds",
      help: "Duration of a load balancer apply (render, haproxy -c, reload), by balancer and outcome.",
      labelNames: ["balancer", "outcome"],
      buckets: APPLY_BUCKETS,
      registers,
    }),
    lbApplyErrors: new Counter({
      name: "ocim_lb_apply_errors_total",
      help: "Load balancer applies that failed (the previous configuration stayed live).",
      labelNames: ["balancer"],
      registers,
    }),
    logLines: new Counter({
      name: "ocim_log_lines_ingested_total",
      help: "Provisioning log lines stored.",
      registers,
    }),
  };
}
