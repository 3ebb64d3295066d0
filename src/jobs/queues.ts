// Enqueueing jobs (BullMQ). Callers enqueue only after their transaction commits (STYLE 6).
import { Queue, QueueEvents, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_QUEUE, type JobName, type QueueName } from "./names.js";
import { PAYLOADS, type Payload } from "./payloads.js";
import { askRedis } from "../redis.js";

export type ActionOutcome = { state: "completed"; message: string } | { state: "failed"; message: string } | { state: "pending" };

export interface Jobs {
  prefix: string;
  enqueue<N extends JobName>(name: N, payload: Payload<N>, opts?: JobsOptions): Promise<string>;
  /** Enqueues a job and waits up to waitMs for its outcome (for a page or an API call to report it). */
  run<N extends JobName>(name: N, payload: Payload<N>, waitMs: number): Promise<ActionOutcome>;
  queue(name: QueueName): Queue;
  close(): Promise<void>;
}

/** @param timeoutMs how long adding a job may wait for Redis before a 503 (REDIS_TIMEOUT_MS). */
export function createJobs(redis: Redis, prefix = "ocim", timeoutMs = 1500): Jobs {
  const queues = new Map<QueueName, Queue>();
  const events = new Map<QueueName, QueueEvents>();
  const connections: Redis[] = [];
  // QueueEvents blocks on its own connection; made only by processes that wait for outcomes.
  const eventsOf = async (name: QueueName) => {
    let e = events.get(name);
    if (!e) {
      const connection = redis.duplicate();
      e = new QueueEvents(name, { connection, prefix });
      // Without a listener BullMQ prints every connection error (console.error); the outage is
      // logged once by the connection's own watcher (src/redis.ts).
      e.on("error", () => {});
      // BullMQ leaves a connection it was given open on close(): ours to end (in close()).
      connections.push(connection);
      events.set(name, e);
      await e.waitUntilReady();
    }
    return e;
  };
  const queue = (name: QueueName) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      q.on("error", () => {}); // as for QueueEvents above
      queues.set(name, q);
    }
    return q;
  };
  return {
    prefix,
    queue,
    async enqueue(name, payload, opts = {}) {
      const data = PAYLOADS[name].parse(payload);
      const job = await askRedis(redis, timeoutMs, () => queue(JOB_QUEUE[name]).add(name, data, {
        removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
        ...opts,
      }));
      return job.id ?? "";
    },
    async run(name, payload, waitMs) {
      const data = PAYLOADS[name].parse(payload);
      // Once per queue and process, a new connection and BullMQ's setup: more room than a command.
      const queueEvents = await askRedis(redis, Math.max(timeoutMs, 10_000), () => eventsOf(JOB_QUEUE[name]));
      const job = await askRedis(redis, timeoutMs, () => queue(JOB_QUEUE[name]).add(name, data, { removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } }));
      try {
        const result = await job.waitUntilFinished(queueEvents, waitMs);
        return { state: "completed", message: typeof result === "string" ? result : "Done." };
      } catch (err) {
        const message = (err as Error).message ?? "";
        if (/timed out before finishing/.test(message)) return { state: "pending" };
        return { state: "failed", message };
      }
    },
    async close() {
      await Promise.all([...events.values()].map((e) => e.close()));
      for (const c of connections) c.disconnect();
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
