// The one log writer (STYLE 15): the provisioning job, the tests and bench/log-pipeline.ts all
// store lines through it. Turns a stream of lines into stored, numbered LogEntries and live
// messages (DESIGN §7). Lines are masked, batched (at most BATCH_LINES or MAX_DELAY_MS), written
// with ONE multi-row insert, and published to Redis only after that insert committed, so a socket
// never shows a line the database does not have. One batch is in flight at a time: seq order is
// publish order. A line read from the playbook's log file carries its end offset in that file;
// the batch's insert stores the offset of its last such line in the same statement, so a job that
// resumes from the stored offset gets every line exactly once, wherever a batch ended.
import type { Deps } from "../../deps.js";
import type { LogLevel } from "./live-channels.js";
import { publishLogLines } from "./publish.js";
import { createMasker } from "../secrets/mask-secrets.js";
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
   *  else when a batch has been stored: a fast producer that awaits it cannot outrun the database.
   *  `endOffset`: where the line ends in the file it was read from (the playbook's log): stored
   *  as the appserver's logOffset together with the line. */
  write(text: string, level?: LogLevel, endOffset?: number): Promise<void>;
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
  endOffset?: number;
}

export function createLogWriter(deps: Pick<Deps, "db" | "redis" | "log" | "now" | "metrics">, opts: LogWriterOptions): LogWriter {
  return new BatchingLogWriter(deps, opts);
}

class BatchingLogWriter implements LogWriter {
  private readonly batchLines: number;
  private readonly maxDelayMs: number;
  private readonly highWater: number;
  private readonly mask: (line: string) => string;
  private readonly log: Deps["log"];
  private queue: Queued[] = [];
  private firstQueuedAt = 0;
  private lastSeq: number | null = null; // unknown until the first batch reads the current maximum
  private inFlight: Promise<void> | null = null;
  private publishing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private closed = false;
  private roomWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly deps: Pick<Deps, "db" | "redis" | "log" | "now" | "metrics">, private readonly opts: LogWriterOptions) {
    this.batchLines = opts.batchLines ?? BATCH_LINES;
    this.maxDelayMs = opts.maxDelayMs ?? MAX_DELAY_MS;
    this.highWater = opts.highWaterLines ?? this.batchLines * 4;
    this.mask = createMasker(opts.secrets);
    this.log = deps.log.child({ appServerId: opts.appServerId, instanceId: opts.instanceId });
  }

  write(text: string, level: LogLevel = "info", endOffset?: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("log writer is closed"));
    if (this.queue.length === 0 && !this.inFlight) this.firstQueuedAt = this.deps.now().getTime();
    for (const part of text.split("\n")) this.queue.push({ text: prepareLine(part, this.mask), level, endOffset });
    this.schedule();
    if (this.queue.length < this.highWater) return Promise.resolve();
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  async flush(): Promise<number> {
    while ((this.queue.length || this.inFlight) && !this.failure) {
      if (!this.inFlight) this.startBatch();
      await this.inFlight;
    }
    if (this.failure) throw this.failure;
    await this.publishing;
    return this.lastSeq ?? (await maxLogSeq(this.deps, this.opts.appServerId));
  }

  async close(): Promise<number> {
    this.closed = true;
    const seq = await this.flush();
    if (this.timer) clearTimeout(this.timer);
    return seq;
  }

  /** Next batch now when one is full, else when the oldest queued line has waited maxDelayMs. */
  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.batchLines) return this.startBatch();
    if (this.timer) return;
    const wait = Math.max(0, this.maxDelayMs - (this.deps.now().getTime() - this.firstQueuedAt));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.inFlight && this.queue.length) this.startBatch();
    }, wait);
  }

  private startBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue.slice(0, this.batchLines);
    this.queue = this.queue.slice(this.batchLines);
    this.firstQueuedAt = this.deps.now().getTime();
    this.inFlight = this.storeBatch(batch)
      .catch((err) => {
        this.failure = err;
        this.log.error({ err, lines: batch.length }, "logs.writer.insert_failed");
      })
      .finally(() => {
        this.inFlight = null;
        this.releaseWaiters();
        if (!this.failure) this.schedule();
      });
  }

  private async storeBatch(batch: Queued[]): Promise<void> {
    const logOffset = batch.findLast((l) => l.endOffset !== undefined)?.endOffset;
    for (let attempt = 0; ; attempt++) {
      this.lastSeq ??= await maxLogSeq(this.deps, this.opts.appServerId);
      const first = this.lastSeq + 1;
      try {
        await insertLogBatch(this.deps, { appServerId: this.opts.appServerId, firstSeq: first, lines: batch, logOffset });
      } catch (err) {
        // Another writer for the same appserver (a worker presumed dead that is not): continue after
        // its lines. Not for lines of the playbook's file: the other writer may have stored these
        // very lines; failing makes the job resume from the offset stored with them.
        if (!isSeqConflict(err) || logOffset !== undefined || attempt >= SEQ_CONFLICT_RETRIES) throw err;
        this.log.warn({ firstSeq: first }, "logs.writer.seq_conflict");
        this.lastSeq = null;
        continue;
      }
      this.lastSeq = first + batch.length - 1;
      this.deps.metrics.logLines.inc(batch.length);
      // The next insert need not wait for Redis; one publish in flight at a time keeps memory bounded,
      // and one connection keeps them in seq order.
      await this.publishing;
      this.publishing = this.publish(batch, first);
      return;
    }
  }

  private async publish(batch: Queued[], firstSeq: number): Promise<void> {
    const at = this.deps.now().toISOString();
    const lines = batch.map((l, i) => ({ seq: firstSeq + i, level: l.level, text: l.text, at }));
    // The lines are stored: a viewer that misses this message fetches them by seq. Never fail the writer for it.
    await publishLogLines(this.deps, this.opts.appServerId, lines).catch((err) => this.log.warn({ err }, "logs.writer.publish_failed"));
  }

  private releaseWaiters(): void {
    if (!this.failure && this.queue.length >= this.highWater) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) (this.failure ? w.reject(this.failure) : w.resolve());
  }
}

/** Strips terminal escapes and control characters, masks secrets, then bounds the length
 *  (masking first: a cut through a secret must not leave half of it readable). */
export function prepareLine(raw: string, mask: (line: string) => string): string {
  const plain = raw.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "");
  const masked = mask(plain);
  if (masked.length <= MAX_LINE_CHARS) return masked;
  return `${masked.slice(0, MAX_LINE_CHARS)} … [${masked.length - MAX_LINE_CHARS} more characters]`;
}
