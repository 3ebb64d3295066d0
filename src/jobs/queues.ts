// Enqueueing jobs (BullMQ). Appserver follow-ups come through the outbox relay
// (src/jobs/relay-outbox.ts); other callers enqueue only after their transaction commits (STYLE 6).
import { Queue, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { JOB_QUEUE, type JobName, type QueueName } from "./names.js";
import { PAYLOADS, type Payload } from "./payloads.js";
import { askRedis } from "../redis.js";

export interface Jobs {
  prefix: string;
  enqueue<N extends JobName>(name: N, payload: Payload<N>, opts?: JobsOptions): Promise<string>;
  queue(name: QueueName): Queue;
  close(): Promise<void>;
}

/** @param timeoutMs how long adding a job may wait for Redis before a 503 (REDIS_TIMEOUT_MS). */
export function createJobs(redis: Redis, prefix = "ocim", timeoutMs = 1500): Jobs {
  const queues = new Map<QueueName, Queue>();
  const queue = (name: QueueName) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: redis, prefix });
      // Without a listener BullMQ prints every connection error; the outage is logged once by the
      // connection's own watcher (src/redis.ts).
      q.on("error", () => {});
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
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
