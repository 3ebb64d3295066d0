// Polls until check() returns a value (not undefined/false), or fails with what it last saw.
import net from "node:net";
import type { Job, Queue } from "bullmq";

export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Until a server accepts TCP connections on 127.0.0.1:`port` (a program the test started). */
export async function waitForPort(what: string, port: number): Promise<void> {
  await waitFor(`${what} on port ${port}`, () => new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket.end() && true)).on("error", () => resolve(false));
  }), 15_000, 20);
}

/** A job once BullMQ has recorded its end: an appserver's status is written before that, by the
 *  failing attempt itself, so reading attemptsMade on the status alone races the worker. */
export function jobEnded(queue: Queue, jobId: string): Promise<Job> {
  return waitFor(`job ${jobId} to end`, async () => {
    const state = await queue.getJobState(jobId);
    if (state !== "failed" && state !== "completed") return undefined;
    // Read after the state: a job read before it ended would show the attempts of the one before.
    return queue.getJob(jobId);
  });
}
