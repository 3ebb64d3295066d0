// Load balancer config: rendering 5,000 instances × 2 active appservers, against the baseline of
// `haproxy -c` checking the same files (which every apply runs). Goal: render < 10% of the check.
// In memory, no database: the rows are built in the shape loadRenderInput() reads, and "render"
// covers everything after the query (basic auth from each instance's sealed key, map, backends,
// haproxy.cfg, as bytes ready to write).
// Both wall and CPU time are printed: the build machines are shared, and CPU time (user + system,
// of this process for the render, of the haproxy child for the check) moves less with their load.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSecrets } from "../src/crypto.js";
import { derivePrefixedDomains } from "../src/domain/instances/domains.js";
import { newInstanceSecret } from "../src/domain/instances/secret.js";
import { renderFragment } from "../src/domain/loadbalancer/render-config.js";
import { renderLocalConfig } from "../src/adapters/haproxy/local-config.js";
import { toRenderInput, type LbInstanceRow } from "../src/domain/loadbalancer/render-input.js";
import { resolveHaproxyBin } from "../src/adapters/haproxy/check-config.js";

const INSTANCES = 5000;
const APPSERVERS_PER_INSTANCE = 2;
const WARMUP_RUNS = 10;
const RENDER_RUNS = 21;
const CHECK_RUNS = 7;
const SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789";

const secrets = createSecrets(SECRET_KEY);
// A frozen configuration as launch writes it, with as many variables as a real launch (~150; an
// apply reads each appserver's); half of the appservers run each recipe, so both ways of finding
// the HTTP port are in the figure.
const OTHER_VARIABLES = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`EDXAPP_SETTING_${i}`, i % 3 === 0 ? { nested: [i, `value ${i}`] } : `value ${i}`]));
const snapshotOf = (recipe: "tutor" | "custom") => ({
  version: 2,
  recipe,
  instance: { slug: "bench" },
  playbook: { repoUrl: "https://github.com/openedx/configuration.git", branch: "open-release/quince.master", path: "playbooks/openedx_native.yml", bootstrapCommand: "", sudo: false },
  variables: { ...OTHER_VARIABLES, ...(recipe === "tutor" ? { TUTOR_CONFIG: { LMS_HOST: "lms.bench.example.com", CADDY_HTTP_PORT: 80 } } : { EDXAPP_LMS_NGINX_PORT: 80 }) },
  providerKind: "openstack",
  launchedAt: "2026-12-01T00:00:00.000Z",
});
const built: LbInstanceRow[] = Array.from({ length: INSTANCES }, (_, i) => {
  const id = i + 1;
  const domain = `site-${id}.bench.example.com`;
  return {
    id,
    name: `Site ${id}`,
    internalLmsDomain: domain,
    ...derivePrefixedDomains(domain),
    externalDomains: id % 10 === 0 ? [`www.customer-${id}.example.org`] : [],
    secretKeyEncrypted: newInstanceSecret(secrets),
    appServers: Array.from({ length: APPSERVERS_PER_INSTANCE }, (_, j) => {
      const n = id * APPSERVERS_PER_INSTANCE + j;
      return { id: n, publicIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, configSnapshot: snapshotOf(j % 2 === 0 ? "tutor" : "custom") };
    }),
  };
});

// Each timed render gets rows parsed anew from JSON (outside the timing): like the database
// driver's, their strings are flat and new, so nothing (such as a string's hash) is cached in them.
const json = JSON.stringify(built);
const freshRows = () => JSON.parse(json) as LbInstanceRow[];

const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-bench-lb-"));
const mapPath = path.join(dir, "domains.map");
const cfgPath = path.join(dir, "haproxy.cfg");
const options = { mapPath, bind: "127.0.0.1", port: 8080, statsSocket: path.join(dir, "haproxy.sock") };

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Rows → the bytes of both files, ready to write. */
function render(rows: LbInstanceRow[], withSecrets = secrets) {
  const fragment = renderFragment(toRenderInput(withSecrets, "bench", rows));
  return { map: fragment.map, config: renderLocalConfig(fragment, options) };
}

function time(fn: () => void): Timing {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

/** `haproxy -c` under bash's `time`, which also reports the child's CPU time. */
function timeCheck(bin: string): Timing {
  const script = `TIMEFORMAT='%R %U %S'; time "$0" -c -q -f "$1"`;
  const result = spawnSync("bash", ["-c", script, bin, cfgPath], { encoding: "utf8" });
  const times = result.stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  if (result.status !== 0 || times.length !== 3) throw new Error(`haproxy -c failed: ${result.stderr}`);
  return { wallMs: times[0]! * 1000, cpuMs: (times[1]! + times[2]!) * 1000 };
}

function median(runs: Timing[]): Timing {
  const mid = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  return { wallMs: mid(runs.map((r) => r.wallMs)), cpuMs: mid(runs.map((r) => r.cpuMs)) };
}

// Warm-up: the JIT, and V8's young generation, which grows to its working size over the first
// renders. A worker that applies balancers all day is in that steady state.
let files = render(freshRows());
for (let i = 0; i < WARMUP_RUNS; i++) files = render(freshRows());
/** The median timing of fn, each run on what prepare() made for it (not timed). */
function runs<T>(count: number, prepare: () => T, fn: (prepared: T) => unknown): Timing {
  return median(Array.from({ length: count }, () => {
    const prepared = prepare();
    return time(() => fn(prepared));
  }));
}
const warm = runs(RENDER_RUNS, freshRows, (rows) => (files = render(rows)));
const rowsToInput = runs(RENDER_RUNS, freshRows, (rows) => toRenderInput(secrets, "bench", rows));
const inputToBytes = runs(RENDER_RUNS, () => toRenderInput(secrets, "bench", freshRows()), (input) => renderLocalConfig(renderFragment(input), options));
// A worker's first render derives every instance's basic auth (a new Secrets has nothing cached).
// Measured last: the three discarded caches would otherwise be collected during the runs above.
const cold = runs(3, () => ({ rows: freshRows(), fresh: createSecrets(SECRET_KEY) }), ({ rows, fresh }) => render(rows, fresh));

writeFileSync(mapPath, files.map);
writeFileSync(cfgPath, Buffer.concat(files.config));
const bin = resolveHaproxyBin(undefined);
const check = median(Array.from({ length: CHECK_RUNS }, () => timeCheck(bin)));
rmSync(dir, { recursive: true, force: true });

const show = (t: Timing) => `${t.wallMs.toFixed(1)} ms wall, ${t.cpuMs.toFixed(1)} ms CPU`;
const ratio = (t: Timing) => `${((t.wallMs / check.wallMs) * 100).toFixed(1)}% wall, ${((t.cpuMs / check.cpuMs) * 100).toFixed(1)}% CPU`;
process.stdout.write(
  [
    `lb-config: ${INSTANCES} instances × ${APPSERVERS_PER_INSTANCE} active appservers, in memory (${((files.config.reduce((sum, part) => sum + part.length, 0) + files.map.length) / 1e6).toFixed(1)} MB of config + map)`,
    `  baseline: haproxy -c -f, same files (median of ${CHECK_RUNS}): ${show(check)}`,
    `  render, rows → bytes to write (median of ${RENDER_RUNS}):     ${show(warm)} = ${ratio(warm)} of haproxy -c (goal < 10%)`,
    `    rows → render input (domains, cached basic auth):  ${show(rowsToInput)} = ${ratio(rowsToInput)}`,
    `    render input → map + haproxy.cfg bytes:            ${show(inputToBytes)} = ${ratio(inputToBytes)}`,
    `  a worker's first render, deriving every basic auth (median of 3): ${show(cold)} = ${ratio(cold)}`,
    "",
  ].join("\n"),
);
