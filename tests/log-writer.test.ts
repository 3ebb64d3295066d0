import { sample } from "./helpers/metrics.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { spreadAppServerIds } from "./helpers/live.js";
import { createLogWriter, MAX_LINE_CHARS } from "../src/domain/logs/log-writer.js";
import { logChannel, type LogLinesMessage } from "../src/domain/logs/live-channels.js";
import { MASK, secretValuesIn } from "../src/domain/secrets/mask-secrets.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";

describe("log writer", () => {
  let deps: TestDeps;
  let subscriber: Redis;
  let instance: Awaited<ReturnType<typeof makeInstance>>;
  beforeAll(async () => {
    deps = await createTestDeps();
    await spreadAppServerIds(deps);
    subscriber = deps.redis.duplicate();
    instance = await makeInstance(deps);
  });
  afterAll(async () => {
    subscriber.disconnect();
    await deps.close();
  });

  const newAppServer = async () => (await makeAppServer(deps, instance.id)).id;
  const stored = (appServerId: number) =>
    deps.db.logEntry.findMany({ where: { appServerId }, orderBy: { seq: "asc" }, select: { seq: true, text: true, level: true } });

  /** Collects what is published for the appserver; received(seq) waits until seq has been. */
  async function listen(appServerId: number) {
    const messages: LogLinesMessage[] = [];
    const channel = logChannel(appServerId);
    subscriber.on("message", (ch: string, raw: string) => {
      if (ch === channel) messages.push(JSON.parse(raw) as LogLinesMessage);
    });
    await subscriber.subscribe(channel);
    return {
      messages,
      async received(seq: number) {
        while (!messages.some((m) => m.lines.at(-1)!.seq >= seq)) await new Promise((r) => subscriber.once("message", r));
        return messages;
      },
    };
  }

  it("stores lines in batches of at most 500 with seq 1, 2, 3…, and publishes the batches in order", async () => {
    const id = await newAppServer();
    const { received } = await listen(id);
    const ingested = async () => sample(await deps.metrics.registry.metrics(), "ocim_log_lines_ingested_total")!;
    const before = await ingested();
    const writer = createLogWriter(deps, { appServerId: id, secrets: [] });
    for (let i = 1; i <= 1234; i++) void writer.write(`TASK [line ${i}]`, i % 100 === 0 ? "warn" : "info");
    expect(await writer.flush()).toBe(1234);
    expect(await ingested()).toBe(before + 1234);

    const rows = await stored(id);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 1234 }, (_, i) => i + 1));
    expect(rows[99]).toEqual({ seq: 100, text: "TASK [line 100]", level: "warn" });

    const messages = await received(1234);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(messages.every((m) => m.lines.length <= 500)).toBe(true);
    expect(messages.flatMap((m) => m.lines.map((l) => l.seq))).toEqual(rows.map((r) => r.seq));
    await writer.close();
  });

  it("publishes a batch only once its insert has committed", async () => {
    const id = await newAppServer();
    const { messages, received } = await listen(id);
    const { default: pg } = await import("pg");
    const locker = new pg.Client({ connectionString: deps.databaseUrl });
    await locker.connect();
    await locker.query('BEGIN; LOCK TABLE "LogEntry" IN SHARE MODE');
    const writer = createLogWriter(deps, { appServerId: id, secrets: [] });
    let flushed: Promise<number>;
    try {
      await writer.write("held back");
      flushed = writer.flush();
      // Until the writer's INSERT is seen waiting for the lock (pg_stat_activity may still show
      // its previous statement while the new one is being parsed, so match on the wait only)…
      for (;;) {
        const { rows } = await locker.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()`,
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // …then whatever was published before now has reached the subscriber (Redis keeps order).
      await subscriber.ping();
      expect(messages).toEqual([]);
    } finally {
      await locker.query("COMMIT");
      await locker.end();
    }
    expect(await flushed).toBe(1);
    expect((await received(1))[0]!.lines[0]!.text).toBe("held back");
  });

  it("stores a lone line without a flush (the batch timer), and flush() then reports its seq", async () => {
    const id = await newAppServer();
    const { received } = await listen(id);
    const writer = createLogWriter(deps, { appServerId: id, secrets: [] });
    await writer.write("PLAY [all] ****");
    const [message] = await received(1);
    expect(message!.lines.map((l) => [l.seq, l.text])).toEqual([[1, "PLAY [all] ****"]]);
    expect(await writer.flush()).toBe(1);
    await writer.close();
    await expect(writer.write("after close")).rejects.toThrow("closed");
  });

  it("continues the sequence when a new writer takes over (a worker crashed), and when two overlap", async () => {
    const id = await newAppServer();
    const first = createLogWriter(deps, { appServerId: id, secrets: [] });
    for (let i = 1; i <= 10; i++) await first.write(`first ${i}`);
    expect(await first.flush()).toBe(10);
    // `first` is abandoned without close(), as a dead worker's writer would be.
    const second = createLogWriter(deps, { appServerId: id, secrets: [] });
    expect(await second.flush()).toBe(10);
    await second.write("second 1");
    expect(await second.close()).toBe(11);

    const a = createLogWriter(deps, { appServerId: id, secrets: [] });
    const b = createLogWriter(deps, { appServerId: id, secrets: [] });
    for (let i = 0; i < 300; i++) {
      void a.write(`a ${i}`);
      void b.write(`b ${i}`);
    }
    await Promise.all([a.close(), b.close()]);
    const rows = await stored(id);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 611 }, (_, i) => i + 1));
    expect(rows.filter((r) => r.text.startsWith("a ")).map((r) => r.text)).toEqual(Array.from({ length: 300 }, (_, i) => `a ${i}`));
    expect(rows.filter((r) => r.text.startsWith("b ")).map((r) => r.text)).toEqual(Array.from({ length: 300 }, (_, i) => `b ${i}`));
  });

  it("stores a file's lines with the offset they end at, in the same commit, whatever the batch boundaries", async () => {
    const id = await newAppServer();
    const writer = createLogWriter(deps, { appServerId: id, secrets: [] });
    // Lines of a playbook log (11 bytes each with the newline), in batches of 500 and a few lone ones.
    const line = (i: number) => `line ${String(i).padStart(5, "0")}`;
    let writing = true;
    const samples: { offset: number; lines: number }[] = [];
    const sampler = (async () => {
      while (writing) {
        // One statement sees one snapshot: what a crash right now would leave behind.
        const [row] = await deps.db.$queryRaw<{ offset: bigint; lines: bigint }[]>`
          SELECT a."logOffset" AS offset, (SELECT count(*) FROM "LogEntry" e WHERE e."appServerId" = a."id") AS lines
          FROM "AppServer" a WHERE a."id" = ${id}`;
        samples.push({ offset: Number(row!.offset), lines: Number(row!.lines) });
      }
    })();
    for (let i = 1; i <= 2_345; i++) {
      await writer.write(line(i), "info", i * 11);
      if (i % 400 === 0) await new Promise((r) => setTimeout(r, 60));
    }
    await writer.close();
    writing = false;
    await sampler;
    const row = await deps.db.appServer.findUniqueOrThrow({ where: { id }, select: { logOffset: true } });
    expect(Number(row.logOffset)).toBe(2_345 * 11);
    expect((await stored(id)).map((r) => r.text)).toEqual(Array.from({ length: 2_345 }, (_, i) => line(i + 1)));
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) expect(sample.offset).toBe(sample.lines * 11);
  });

  it("masks the given secrets and obvious credentials before anything is stored or published", async () => {
    const id = await newAppServer();
    const { received } = await listen(id);
    const { password } = basicAuthFor(deps.secrets, instance);
    const variables = { COMMON_HTPASSWD_PASS: password, EDXAPP_MYSQL: { EDXAPP_MYSQL_PASSWORD: "mysql-pw-9876" }, SMTP_HOST: "mail.example" };
    const writer = createLogWriter(deps, { appServerId: id, secrets: [password, ...secretValuesIn(variables)] });
    const lines = [
      `ok: [localhost] => (item=${password})`,
      `changed: [localhost] => {"EDXAPP_MYSQL_PASSWORD": "mysql-pw-9876", "SMTP_HOST": "mail.example"}`,
      "TASK [set] api_token=tok_abcdef1234 db_password: 'other-secret'",
      "cloning https://deploy:gh-pat-0000@github.com/org/repo.git",
      "curl -H 'Authorization: Basic dXNlcjpwYXNz' http://127.0.0.1/heartbeat",
      "PLAY RECAP localhost : ok=5 changed=2 failed=0",
    ];
    for (const line of lines) await writer.write(line);
    await writer.close();

    const texts = (await stored(id)).map((r) => r.text);
    expect(texts).toEqual([
      `ok: [localhost] => (item=${MASK})`,
      `changed: [localhost] => {"EDXAPP_MYSQL_PASSWORD": "${MASK}", "SMTP_HOST": "mail.example"}`,
      `TASK [set] api_token=${MASK} db_password: '${MASK}'`,
      `cloning https://deploy:${MASK}@github.com/org/repo.git`,
      `curl -H 'Authorization: Basic ${MASK}' http://127.0.0.1/heartbeat`,
      "PLAY RECAP localhost : ok=5 changed=2 failed=0",
    ]);
    const published = JSON.stringify(await received(6));
    for (const secret of [password, "mysql-pw-9876", "tok_abcdef1234", "other-secret", "gh-pat-0000", "dXNlcjpwYXNz"]) {
      expect(published).not.toContain(secret);
    }
  });

  it("cleans lines PostgreSQL or a page cannot hold: NUL, terminal colours, CR, newlines, huge lines", async () => {
    const id = await newAppServer();
    const writer = createLogWriter(deps, { appServerId: id, secrets: [] });
    await writer.write("\u001b[0;32mok: [localhost]\u001b[0m\r");
    await writer.write("nul\u0000byte\ttab");
    await writer.write("two\nlines");
    await writer.write("x".repeat(MAX_LINE_CHARS + 10));
    await writer.close();
    const texts = (await stored(id)).map((r) => r.text);
    expect(texts.slice(0, 4)).toEqual(["ok: [localhost]", "nulbyte\ttab", "two", "lines"]);
    expect(texts[4]).toBe(`${"x".repeat(MAX_LINE_CHARS)} … [10 more characters]`);
  });

  it("makes a fast producer wait once its queue is full, until a batch is stored", async () => {
    const id = await newAppServer();
    const writer = createLogWriter(deps, { appServerId: id, secrets: [], batchLines: 5, highWaterLines: 10 });
    // Lines 1-5 are in flight as a batch, 6-15 fill the queue.
    for (let i = 1; i < 15; i++) void writer.write(`line ${i}`);
    let settled = false;
    const last = writer.write("line 15").then(() => (settled = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(false);
    await last;
    expect(await deps.db.logEntry.count({ where: { appServerId: id } })).toBeGreaterThanOrEqual(5);
    expect(await writer.close()).toBe(15);
  });

  it("fails loudly, not silently, when lines cannot be stored", async () => {
    const writer = createLogWriter(deps, { appServerId: 2_147_000_000, secrets: [] });
    await writer.write("to an appserver that does not exist");
    await expect(writer.flush()).rejects.toThrow(/foreign key|Foreign key/);
    await expect(writer.write("again")).rejects.toThrow();
  });
});
