// The outbox relay (docs/provisioning.md): moves committed outbox rows to BullMQ (jobs) and to
// Redis pub/sub (live status events), and stamps them sent. Runs in every worker process.
// - Several relays at once: each pass locks the rows it takes (FOR UPDATE SKIP LOCKED), so two
//   relays never send the same row; a relay that dies mid-pass releases its rows unsent.
// - Sending twice is harmless anyway (a crash after the send, before the commit): each job has a
//   deterministic id, which BullMQ ignores when it exists, and a status event repeats the status.
// - Latency: every transition NOTIFYs at commit; the relay LISTENs on its own connection and
//   sends at once. A sweep every OUTBOX_SWEEP_SECONDS covers a notification missed while that
//   connection was down (a database restart); the reconciler sweeps too.
import type { JobsOptions } from "bullmq";
import type pg from "pg";
import { z } from "zod";
import type { Deps } from "../deps.js";
import { separateConnection } from "../db.js";
import { announceAppServer, announceInstance } from "../domain/appservers/publish-status.js";
import { OUTBOX, OUTBOX_CHANNEL, type OutboxKind } from "../domain/appservers/outbox.js";
import { JOB, type JobName } from "./names.js";
import { PAYLOADS } from "./payloads.js";

const BATCH = 100;

/** The job each outbox kind becomes (a type error if the two lists of names drift apart). */
const JOB_OF = {
  [OUTBOX.provisionAppServer]: JOB.provisionAppServer,
  [OUTBOX.applyLoadBalancer]: JOB.applyLoadBalancer,
  [OUTBOX.deleteAppServerVm]: JOB.deleteAppServerVm,
  [OUTBOX.stopPlaybook]: JOB.stopPlaybook,
  [OUTBOX.sendNotification]: JOB.sendNotification,
  [OUTBOX.advanceRollout]: JOB.advanceRollout,
  [OUTBOX.activateAppServer]: JOB.activateAppServer,
} as const satisfies Record<Exclude<OutboxKind, "status-event" | "instance-event">, JobName>;

/** One provisioning job per appserver: the relay and the reconciler both add it under this id. */
export function provisionJobId(appServerId: number): string {
  return `provision-${appServerId}`;
}

export function provisionJobOptions(config: Deps["config"], appServerId: number): JobsOptions {
  return {
    jobId: provisionJobId(appServerId),
    // Infrastructure hiccups (API 5xx, SSH refused) are retried with backoff; a failed playbook is not.
    attempts: config.PROVISIONING_ATTEMPTS,
    backoff: { type: "exponential", delay: config.JOB_RETRY_DELAY_SECONDS * 1000 },
  };
}

/** A delivery is retried NOTIFY_ATTEMPTS times in all, waiting NOTIFY_RETRY_SECONDS, then twice as long each time. */
export function notificationJobOptions(config: Deps["config"], deliveryId: number): JobsOptions {
  return { jobId: `notify-${deliveryId}`, attempts: config.NOTIFY_ATTEMPTS, backoff: { type: "exponential", delay: config.NOTIFY_RETRY_SECONDS * 1000 } };
}

function jobOptions(config: Deps["config"], kind: keyof typeof JOB_OF, rowId: bigint, payload: object): JobsOptions {
  if (kind === OUTBOX.provisionAppServer) return provisionJobOptions(config, (payload as { appServerId: number }).appServerId);
  if (kind === OUTBOX.sendNotification) return notificationJobOptions(config, (payload as { deliveryId: number }).deliveryId);
  const backoff = { type: "exponential", delay: Math.max(1000, config.JOB_RETRY_DELAY_SECONDS * 1000) };
  return { jobId: `outbox-${rowId}`, attempts: kind === OUTBOX.deleteAppServerVm ? 5 : 3, backoff };
}

const statusEvent = z.object({ appServerId: z.number().int().positive() }).strict();
const instanceEvent = z.object({ instanceId: z.number().int().positive() }).strict();

async function send(deps: Deps, row: { id: bigint; kind: string; payload: unknown }): Promise<void> {
  if (row.kind === OUTBOX.statusEvent) return announceAppServer(deps, statusEvent.parse(row.payload).appServerId);
  if (row.kind === OUTBOX.instanceEvent) return announceInstance(deps, instanceEvent.parse(row.payload).instanceId);
  if (!Object.hasOwn(JOB_OF, row.kind)) throw new UnsendableRow(`unknown outbox kind "${row.kind}"`);
  const kind = row.kind as keyof typeof JOB_OF;
  const name = JOB_OF[kind];
  const parsed = PAYLOADS[name].safeParse(row.payload);
  if (!parsed.success) throw new UnsendableRow(`bad payload for ${name}: ${parsed.error.message}`);
  await deps.jobs.enqueue(name, parsed.data as never, jobOptions(deps.config, kind, row.id, parsed.data));
}

/** A row no retry can send (a bug): logged and stamped, so it does not block the rows behind it. */
class UnsendableRow extends Error {}

/** One pass: sends up to BATCH unsent rows, oldest first. */
export async function relayOutbox(deps: Deps): Promise<{ taken: number; sent: number }> {
  return deps.db.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ id: bigint; kind: string; payload: unknown }[]>`
      SELECT id, kind, payload FROM "OutboxMessage" WHERE "sentAt" IS NULL ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`;
    const sent: bigint[] = [];
    const failed: bigint[] = [];
    for (const row of rows) {
      try {
        await send(deps, row);
        sent.push(row.id);
      } catch (err) {
        if (err instanceof UnsendableRow || err instanceof z.ZodError) {
          deps.log.error({ err, outboxId: String(row.id) }, "outbox.unsendable");
          sent.push(row.id);
        } else {
          deps.log.warn({ err, outboxId: String(row.id) }, "outbox.send_failed");
          failed.push(row.id);
          break; // Redis is likely down: the rest would fail too; the next pass retries in order.
        }
      }
    }
    if (sent.length) await tx.outboxMessage.updateMany({ where: { id: { in: sent } }, data: { sentAt: deps.now(), attempts: { increment: 1 } } });
    if (failed.length) await tx.outboxMessage.updateMany({ where: { id: { in: failed } }, data: { attempts: { increment: 1 } } });
    return { taken: rows.length, sent: sent.length };
  }, { timeout: 60_000 });
}

/** Sends until nothing is left, or until a send fails (Redis down: the next pass retries). */
export async function drainOutbox(deps: Deps): Promise<number> {
  let total = 0;
  for (;;) {
    const pass = await relayOutbox(deps);
    total += pass.sent;
    if (pass.taken < BATCH || pass.sent < pass.taken) return total;
  }
}

export interface OutboxRelay {
  /** Sends now (also what a NOTIFY and the sweep do); passes never overlap within one relay. */
  poke(): void;
  close(): Promise<void>;
}

export function startOutboxRelay(deps: Deps): OutboxRelay {
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  const poke = () => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await drainOutbox(deps);
        } catch (err) {
          deps.log.warn({ err }, "outbox.relay_failed");
        }
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
  };
  const listener = listen(deps, poke);
  const sweep = setInterval(poke, deps.config.OUTBOX_SWEEP_SECONDS * 1000);
  poke();
  return {
    poke,
    async close() {
      closed = true;
      clearInterval(sweep);
      await listener.close();
      await running;
    },
  };
}

/** LISTENs for the outbox's NOTIFY on a connection of its own, reconnecting after a loss. */
function listen(deps: Deps, onNotify: () => void): { close(): Promise<void> } {
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;
  const connect = async () => {
    const c = separateConnection(deps.db);
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (client === c) client = null;
      c.end().catch(() => undefined);
      if (stopped) return;
      deps.log.warn({ err }, "outbox.listen_lost");
      retry = setTimeout(connect, 1000);
    };
    c.on("notification", onNotify);
    c.on("error", onLost);
    c.on("end", () => onLost());
    try {
      await c.connect();
      if (stopped) return void (await c.end());
      await c.query(`LISTEN ${OUTBOX_CHANNEL}`);
      client = c;
      onNotify(); // whatever committed while no one listened
    } catch (err) {
      onLost(err as Error);
    }
  };
  void connect();
  return {
    async close() {
      stopped = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
