// npm run bench:log-pipeline — the live log pipeline of DESIGN §7, end to end, on this machine.
// Own PostgreSQL and Redis in a temp dir; the real web role (src/bin/web.ts, socket.io) in its
// own process; this process plays the worker, on the provisioning job's path (a log file →
// drainLog → the run log → the log writer, each batch stored with its file offset in one
// statement) and a browser (a socket.io client subscribed to the appserver).
//   1. throughput: a 1,000,000-line file drained into LogEntries and received by the client,
//      next to a raw multi-row INSERT of the same lines, same batch size (the baseline);
//      goal: ratio ≥ 0.5.
//   2. latency at a steady 2,000 lines/s, from a line written to the file to the client
//      receiving it; goal: p99 < 250 ms. The worker polls the file every POLL_MS when idle.
//   3. VM → page: a local VM (real sshd) prints 2,000 lines/s into its playbook log while the
//      provisioning job's own tail (tailPlaybook over SSH/SFTP) follows it; from a line printed
//      on the VM to the client receiving it; goal: p95 < 300 ms.
// Options: --lines N (default 1000000), --seconds S for the latency runs (default 15),
// --only vm to run the third part alone.
import { chmodSync, closeSync, createWriteStream, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { once } from "node:events";
import pg from "pg";
import { io as connectSocket, type Socket } from "socket.io-client";
import { loadConfig } from "../src/config.js";
import { createDeps, closeDeps, type Deps } from "../src/deps.js";
import { createLogger } from "../src/logger.js";
import { migrate } from "../src/bin/boot.js";
import { startPostgres } from "../src/embedded/postgres.js";
import { startRedis } from "../src/embedded/redis.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";
import { newInstanceSecret } from "../src/domain/instances/secret.js";
import { loginCookie, startWebProcess } from "./web-process.js";
import { BATCH_LINES } from "../src/domain/logs/log-writer.js";
import { createRunLog } from "../src/domain/provisioning/run-log.js";
import { drainLog, type LogSource } from "../src/domain/logs/drain.js";
import type { LogLine } from "../src/domain/logs/live-channels.js";
import { tailPlaybook } from "../src/domain/provisioning/tail-playbook.js";
import { remotePaths } from "../src/domain/provisioning/remote.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";

const { values: args } = parseArgs({
  options: { lines: { type: "string", default: "1000000" }, seconds: { type: "string", default: "15" }, only: { type: "string" } },
});
const LINES = Number(args.lines);
const LATENCY_SECONDS = Number(args.seconds);
const RATE = 2000;
const POLL_MS = 20;
const GOAL_RATIO = 0.5;
const GOAL_P99_MS = 250;
const GOAL_VM_P95_MS = 300;
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";
const BASIC_AUTH_PASSWORD = "bench-basic-auth-password";
// An Open edX appserver masks many values (Fernet keys, JWK fields, OAuth and database secrets):
// the bench masks 80 besides the password, so the one compiled matcher is measured at that size.
const SECRETS = [BASIC_AUTH_PASSWORD, ...Array.from({ length: 80 }, (_, i) => `bench-secret-${i}-${(i * 7919).toString(36)}x${i}`)];
const say = (line: string) => process.stdout.write(line + "\n");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** The local-file LogSource; the provisioning job's is the VM's file over SFTP. */
async function fileSource(file: string): Promise<LogSource & { close(): Promise<void> }> {
  const handle = await openFile(file, "r");
  return {
    async readFrom(offset, maxBytes) {
      const buffer = Buffer.allocUnsafe(maxBytes);
      const { bytesRead } = await handle.read(buffer, 0, maxBytes, offset);
      return { bytes: buffer.subarray(0, bytesRead) };
    },
    close: () => handle.close(),
  };
}

/** Lines like an Open edX playbook's, 40 to 200 characters, one in 1,000 carrying a secret. */
function playbookLine(i: number): string {
  if (i % 1000 === 0) return `changed: [localhost] => (item={'name': 'COMMON_HTPASSWD_PASS', 'value': '${BASIC_AUTH_PASSWORD}'})`;
  const kinds = [
    `TASK [edxapp : Install python requirements ${i}] ${"*".repeat(40 + (i % 60))}`,
    `ok: [localhost] => (item=/edx/app/edxapp/edx-platform/requirements/edx/base.txt#${i})`,
    `changed: [localhost] => {"changed": true, "cmd": ["npm", "install"], "delta": "0:00:0${i % 10}.${i % 1000}", "rc": 0}`,
    `skipping: [localhost] => (item=lms-${i})`,
  ];
  return kinds[i % kinds.length]!;
}

async function writeLogFile(file: string, lines: number): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for (let i = 1; i <= lines; i++) {
    const line = playbookLine(i) + "\n";
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return bytes;
}

async function makeAppServer(deps: Deps, n: number): Promise<number> {
  const slug = `bench-${Date.now().toString(36)}-${n}`;
  const instance = await deps.db.instance.create({
    data: {
      name: `Bench ${n}`, slug, internalLmsDomain: `${slug}.bench.test`, ...derivePrefixedDomains(`${slug}.bench.test`),
      edxPlatformRepoUrl: "", edxPlatformBranch: "master", configurationRepoUrl: "", configurationBranch: "master",
      playbookPath: "playbooks/openedx_native.yml", openedxRelease: "master", secretKeyEncrypted: newInstanceSecret(deps.secrets),
    },
  });
  const appServer = await deps.db.appServer.create({
    data: { instanceId: instance.id, number: 1, name: "AppServer 1", providerKind: "local", configSnapshot: {} },
  });
  return appServer.id;
}

/** A browser's socket on the web process, subscribed to one appserver; counts and checks order. */
async function subscribedClient(url: string, cookie: string, appServerId: number, onLine: (line: LogLine) => void) {
  const socket: Socket = connectSocket(url, { transports: ["websocket"], extraHeaders: { cookie } });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  let last = 0;
  let outOfOrder = 0;
  socket.on("log", (msg: { appServerId: number; lines: LogLine[] }) => {
    if (msg.appServerId !== appServerId) return;
    for (const line of msg.lines) {
      if (line.seq !== last + 1) outOfOrder += 1;
      last = line.seq;
      onLine(line);
    }
  });
  await socket.emitWithAck("subscribe", { appServerId, afterSeq: 0 });
  return { socket, lastSeq: () => last, outOfOrder: () => outOfOrder };
}

function waitUntil(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => check() && (clearInterval(timer), resolve()), 5);
  });
}

/** The same lines (from the generator that wrote the file) as raw multi-row INSERTs on the pg driver. */
async function baselineInsert(databaseUrl: string, appServerId: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  for (let first = 1; first <= LINES; first += BATCH_LINES) {
    const params: unknown[] = [];
    const rows: string[] = [];
    for (let seq = first; seq < first + BATCH_LINES && seq <= LINES; seq++) {
      params.push(appServerId, seq, playbookLine(seq));
      rows.push(`($${params.length - 2}, $${params.length - 1}, 'info', $${params.length})`);
    }
    await client.query(`INSERT INTO "LogEntry" ("appServerId", "seq", "level", "text") VALUES ${rows.join(", ")}`, params);
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return LINES / seconds;
}

async function throughput(deps: Deps, databaseUrl: string, webUrl: string, cookie: string, dir: string): Promise<number> {
  const file = path.join(dir, "playbook.log");
  const bytes = await writeLogFile(file, LINES);
  say(`log pipeline: ${fmt(LINES)} lines (${(bytes / 1e6).toFixed(1)} MB), batches of ${BATCH_LINES}, on ${os.cpus().length} cores`);

  const baseline = await baselineInsert(databaseUrl, await makeAppServer(deps, 1));
  say(`  raw multi-row INSERT (baseline)             ${fmt(baseline).padStart(9)} lines/s`);

  const appServerId = await makeAppServer(deps, 2);
  const client = await subscribedClient(webUrl, cookie, appServerId, () => {});
  const runLog = createRunLog(deps, appServerId, SECRETS);
  const source = await fileSource(file);
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = performance.now();
  await drainLog(source, { from: 0, onLines: (lines, _end, ends) => runLog.appendPlaybook(lines, ends) });
  await runLog.close();
  const stored = await deps.db.logEntry.count({ where: { appServerId } });
  const storedSeconds = (performance.now() - started) / 1000;
  await waitUntil(() => client.lastSeq() >= stored);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await source.close();
  client.socket.disconnect();
  const rate = LINES / seconds;
  say(`  file → drain → writer → PostgreSQL          ${fmt(LINES / storedSeconds).padStart(9)} lines/s`);
  say(`  … → Redis → web → socket.io client          ${fmt(rate).padStart(9)} lines/s  ${seconds.toFixed(1)} s, ${client.outOfOrder()} out of order`);
  say(`  ratio to baseline: ${(rate / baseline).toFixed(2)} (goal ≥ ${GOAL_RATIO}) ${rate / baseline >= GOAL_RATIO ? "OK" : "MISSED"};` +
    ` RSS of the worker+client process ${fmt(rssBefore / 1e6)} MB before, ${fmt(peakRss / 1e6)} MB at most`);
  const masked = await deps.db.logEntry.count({ where: { appServerId, text: { contains: BASIC_AUTH_PASSWORD } } });
  const { logOffset } = await deps.db.appServer.findUniqueOrThrow({ where: { id: appServerId }, select: { logOffset: true } });
  if (stored !== LINES || masked !== 0 || client.outOfOrder() !== 0 || Number(logOffset) !== bytes) {
    throw new Error(`wrong result: ${stored} stored, ${masked} unmasked, ${client.outOfOrder()} out of order, offset ${logOffset} of ${bytes}`);
  }
  return rate / baseline;
}

/** A producer appends RATE lines/s (each carrying its write time) while the worker tails the file. */
async function latency(deps: Deps, webUrl: string, cookie: string, dir: string): Promise<number> {
  const file = path.join(dir, "steady.log");
  const fd = openSync(file, "w");
  const total = RATE * LATENCY_SECONDS;
  const latencies: number[] = [];
  const appServerId = await makeAppServer(deps, 3);
  const client = await subscribedClient(webUrl, cookie, appServerId, (line) => {
    latencies.push(performance.timeOrigin + performance.now() - Number(line.text.split(" ")[2]));
  });
  const runLog = createRunLog(deps, appServerId, SECRETS);
  const source = await fileSource(file);

  let written = 0;
  const started = performance.now();
  const producer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    let chunk = "";
    for (; written < due; written++) chunk += `line ${written + 1} ${performance.timeOrigin + performance.now()} ${playbookLine(written + 1)}\n`;
    if (chunk) writeSync(fd, chunk);
  }, 5);

  let offset = 0;
  const deadline = started + (LATENCY_SECONDS + 30) * 1000;
  while (latencies.length < total && performance.now() < deadline) {
    const run = await drainLog(source, { from: offset, onLines: (lines, _end, ends) => runLog.appendPlaybook(lines, ends) });
    offset = run.offset;
    if (run.lines === 0) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  if (latencies.length < total) throw new Error(`only ${latencies.length} of ${total} lines reached the client`);
  clearInterval(producer);
  closeSync(fd);
  await runLog.close();
  await source.close();
  client.socket.disconnect();
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
  say(`latency at ${fmt(RATE)} lines/s for ${LATENCY_SECONDS} s (${fmt(total)} lines, file polled every ${POLL_MS} ms when idle):`);
  say(`  file write → socket.io client: p50 ${p(0.5).toFixed(0)} ms, p99 ${p(0.99).toFixed(0)} ms, max ${p(1).toFixed(0)} ms` +
    ` (goal p99 < ${GOAL_P99_MS} ms) ${p(0.99) < GOAL_P99_MS ? "OK" : "MISSED"}`);
  return p(0.99);
}

/** Prints RATE lines/s on the VM for `seconds`, each with its print time, then writes the exit file. */
const PRINTER = `
import sys, time
log, done, rate, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
out = open(log, "a")
start, n = time.time(), 0
while n < rate * seconds:
    due = min(int(rate * seconds), int((time.time() - start) * rate))
    chunk = "".join("vm %d %.3f TASK [edxapp : Install requirements %d] %s\\n" % (i, time.time() * 1000, i, "*" * (40 + i % 60)) for i in range(n + 1, due + 1))
    if chunk:
        out.write(chunk)
        out.flush()
    n = due
    time.sleep(0.005)
out.close()
open(done, "w").write("0\\n")
`;

/** A line printed on a local VM → the provisioning job's tail over SSH → writer → socket.io client. */
async function vmLatency(deps: Deps, webUrl: string, cookie: string): Promise<number> {
  const provider = createProvisioningPorts(deps).provider("local");
  const created = await provider.createServer({ name: "bench-vm" });
  let vm = created;
  for (let i = 0; vm.status !== "ready" && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200));
    vm = (await provider.getServer(created.id)) ?? vm;
  }
  const shell = await createProvisioningPorts(deps).connect(provider, vm, 20_000);
  try {
    const paths = remotePaths(vm.workDir);
    const appServerId = await makeAppServer(deps, 4);
    await deps.db.appServer.update({ where: { id: appServerId }, data: { status: "configuring", statusChangedAt: new Date() } });
    const total = RATE * LATENCY_SECONDS;
    const latencies: number[] = [];
    const client = await subscribedClient(webUrl, cookie, appServerId, (line) => {
      if (line.text.startsWith("vm ")) latencies.push(Date.now() - Number(line.text.split(" ")[2]));
    });
    await shell.exec(`mkdir -p ${paths.dir} && rm -f ${paths.log} ${paths.exit}`);
    await shell.uploadFile(`${paths.dir}/printer.py`, PRINTER);
    await shell.exec(`setsid nohup python3 ${paths.dir}/printer.py ${paths.log} ${paths.exit} ${RATE} ${LATENCY_SECONDS} >/dev/null 2>&1 &`);
    const runLog = createRunLog(deps, appServerId, []);
    const outcome = await tailPlaybook(deps, { appServerId, shell, paths, log: runLog });
    await runLog.close();
    await waitUntil(() => latencies.length >= total);
    client.socket.disconnect();
    if (outcome.kind !== "exited") throw new Error(`the tail ended with ${outcome.kind}`);
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!;
    say(`VM → page at ${fmt(RATE)} lines/s for ${LATENCY_SECONDS} s (${fmt(total)} lines printed on a local VM, followed by the provisioning tail over SSH):`);
    say(`  printed on the VM → socket.io client: p50 ${p(0.5).toFixed(0)} ms, p95 ${p(0.95).toFixed(0)} ms, p99 ${p(0.99).toFixed(0)} ms,` +
      ` max ${p(1).toFixed(0)} ms (goal p95 < ${GOAL_VM_P95_MS} ms) ${p(0.95) < GOAL_VM_P95_MS ? "OK" : "MISSED"}`);
    return p(0.95);
  } finally {
    await shell.close();
    await provider.deleteServer(created.id);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-bench-logs-"));
  chmodSync(dir, 0o755); // the postgres user must reach its data directory below it
  const log = createLogger("warn");
  const pgServer = await startPostgres(dir, () => {});
  const redisServer = await startRedis(dir, () => {});
  let deps: Deps | null = null;
  let web: Awaited<ReturnType<typeof startWebProcess>> | null = null;
  try {
    await migrate(pgServer.url);
    const config = loadConfig({
      NODE_ENV: "development", LOG_LEVEL: "warn", DATABASE_URL: pgServer.url, REDIS_URL: redisServer.url, SECRET_KEY,
      // The local VM of part 3: its own files, a loopback address of its own, a free SSH port.
      DATA_DIR: dir, LOCAL_VM_ADDRESS_PREFIX: `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 250)}`, LOCAL_VM_SSH_PORT: "0",
    });
    deps = createDeps(config, { databaseUrl: pgServer.url, redisUrl: redisServer.url, secretKey: SECRET_KEY }, { log });
    web = await startWebProcess(pgServer.url, redisServer.url, SECRET_KEY);
    const cookie = await loginCookie(deps, web.url);
    if (args.only === "vm") {
      process.exitCode = (await vmLatency(deps, web.url, cookie)) < GOAL_VM_P95_MS ? 0 : 1;
      return;
    }
    const ratio = await throughput(deps, pgServer.url, web.url, cookie, dir);
    const p99 = await latency(deps, web.url, cookie, dir);
    const vmP95 = await vmLatency(deps, web.url, cookie);
    process.exitCode = ratio >= GOAL_RATIO && p99 < GOAL_P99_MS && vmP95 < GOAL_VM_P95_MS ? 0 : 1;
  } finally {
    await web?.stop();
    if (deps) await closeDeps(deps);
    await redisServer.child.stop();
    await pgServer.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
