// Turns a stream of lines into stored, numbered LogEntries and live messages (DESIGN §7).
// Lines are masked, batched (at most BATCH_LINES or MAX_DELAY_MS), written with ONE multi-row
// insert, and published to Redis only after that insert committed, so a socket never shows a
// line the database does not have. One batch is in flight at a time: seq order is publish order.
import type { Deps } from "../../deps.js";
import type { LogLevel } from "./live-channels.js";
import { publishLogLines } from "./publish.js";
import { createMasker } from "./mask-secrets.js";
import { insertLogBatch, isSeqConflict, maxLogSeq } from "./insert-log-batch.js";

export interface LogWriterOptions {
  appServerId: number;
  /** Carried in the writer's log events only; lines belong to the appserver. */
  instanceId?: number;
  /** Strings to mask wherever they appear (the basic-auth password, secret variable values). */
  secrets: readonly string[];
  batchLines?: number;
  maxDelayMs?: number;
  /** write() makes the producer wait while this many lines are queued. */
  highWaterLines?: number;
}

export interface LogWriter {
  /** Queues a line (several if it holds newlines). Resolves at once while the queue has room,
   *  else when a batch has been stored: a fast producer that awaits it cannot outrun the database. */
  write(text: string, level?: LogLevel): Promise<void>;
  /** Stores and publishes everything queued; resolves with the last seq stored (0 if none yet).
   *  Once it resolves those lines are durable: the caller may persist its read offset. */
  flush(): Promise<number>;
  /** Flushes, then refuses further writes. */
  close(): Promise<number>;
}

export const BATCH_LINES = 500;
export const MAX_DELAY_MS = 50;
/** PostgreSQL text cannot hold NUL, and a viewer has no use for a 1 MB line. */
export const MAX_LINE_CHARS = 8192;
const SEQ_CONFLICT_RETRIES = 3;

interface Queued {
  text: string;
  level: LogLevel;
}

export function createLogWriter(deps: Pick<Deps, "db" | "redis" | "log" | "now">, opts: LogWriterOptions): LogWriter {
  const batchLines = opts.batchLines ?? BATCH_LINES;
  const maxDelayMs = opts.maxDelayMs ?? MAX_DELAY_MS;
  const highWater = opts.highWaterLines ?? batchLines * 4;
  const mask = createMasker(opts.secrets);
  const log = deps.log.child({ appServerId: opts.appServerId, instanceId: opts.instanceId });

  let queue: Queued[] = [];
  let firstQueuedAt = 0;
  let lastSeq: number | null = null; // unknown until the first batch reads the current maximum
  let inFlight: Promise<void> | null = null;
  let publishing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let failure: unknown = null;
  let closed = false;
  let roomWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  async function storeBatch(batch: Queued[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      lastSeq ??= await maxLogSeq(deps, opts.appServerId);
      const first = lastSeq + 1;
      try {
        await insertLogBatch(deps, { appServerId: opts.appServerId, firstSeq: first, lines: batch });
      } catch (err) {
        // Another writer for the same appserver (a worker presumed dead that is not): continue after its lines.
        if (!isSeqConflict(err) || attempt >= SEQ_CONFLICT_RETRIES) throw err;
        log.warn({ firstSeq: first }, "logs.writer.seq_conflict");
        lastSeq = null;
        continue;
      }
      lastSeq = first + batch.length - 1;
      // The next insert need not wait for Redis; one publish in flight at a time keeps memory bounded,
      // and one connection keeps them in seq order.
      await publishing;
      publishing = publish(batch, first);
      return;
    }
  }

  async function publish(batch: Queued[], firstSeq: number): Promise<void> {
    const at = deps.now().toISOString();
    const lines = batch.map((l, i) => ({ seq: firstSeq + i, level: l.level, text: l.text, at }));
    // The lines are stored: a viewer that misses this message fetches them by seq. Never fail the writer for it.
    await publishLogLines(deps, opts.appServerId, lines).catch((err) => log.warn({ err }, "logs.writer.publish_failed"));
  }

  function startBatch(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = queue.slice(0, batchLines);
    queue = queue.slice(batchLines);
    firstQueuedAt = deps.now().getTime();
    inFlight = storeBatch(batch)
      .catch((err) => {
        failure = err;
        log.error({ err, lines: batch.length }, "logs.writer.insert_failed");
      })
      .finally(() => {
        inFlight = null;
        releaseWaiters();
        if (!failure) schedule();
      });
  }

  /** Next batch now when one is full, else when the oldest queued line has waited maxDelayMs. */
  function schedule(): void {
    if (inFlight || queue.length === 0) return;
    if (queue.length >= batchLines) return startBatch();
    if (timer) return;
    const wait = Math.max(0, maxDelayMs - (deps.now().getTime() - firstQueuedAt));
    timer = setTimeout(() => {
      timer = null;
      if (!inFlight && queue.length) startBatch();
    }, wait);
  }

  function releaseWaiters(): void {
    if (!failure && queue.length >= highWater) return;
    const waiters = roomWaiters;
    roomWaiters = [];
    for (const w of waiters) (failure ? w.reject(failure) : w.resolve());
  }

  function enqueue(text: string, level: LogLevel): void {
    if (queue.length === 0 && !inFlight) firstQueuedAt = deps.now().getTime();
    for (const part of text.split("\n")) queue.push({ text: prepareLine(part, mask), level });
  }

  const writer: LogWriter = {
    write(text, level = "info") {
      if (failure) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error("log writer is closed"));
      enqueue(text, level);
      schedule();
      if (queue.length < highWater) return Promise.resolve();
      return new Promise((resolve, reject) => roomWaiters.push({ resolve, reject }));
    },
    async flush() {
      while (queue.length || inFlight) {
        if (failure) break;
        if (!inFlight) startBatch();
        await inFlight;
      }
      if (failure) throw failure;
      await publishing;
      return lastSeq ?? (await maxLogSeq(deps, opts.appServerId));
    },
    async close() {
      closed = true;
      const seq = await writer.flush();
      if (timer) clearTimeout(timer);
      return seq;
    },
  };
  return writer;
}

/** Strips terminal escapes and control characters, masks secrets, then bounds the length
 *  (masking first: a cut through a secret must not leave half of it readable). */
export function prepareLine(raw: string, mask: (line: string) => string): string {
  const plain = raw.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "");
  const masked = mask(plain);
  if (masked.length <= MAX_LINE_CHARS) return masked;
  return `${masked.slice(0, MAX_LINE_CHARS)} … [${masked.length - MAX_LINE_CHARS} more characters]`;
}
