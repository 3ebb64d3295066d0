// A real MariaDB under a data directory (Debian's mariadb-server): the MySQL server that instances'
// databases go on when no other is configured (DESIGN §5b), and the one the tests start. It listens
// on 127.0.0.1 (and a unix socket in a 0700 directory) and has one administrator, `ocim`, whose
// password is generated into DATA_DIR/mariadb_password (mode 600).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, recordServer, startListening, stopStale, type Child } from "./processes.js";
import { readOrCreateSecret } from "./secret-file.js";
import { supervise, type SuperviseOptions } from "./supervise.js";

export const MARIADB_MISSING =
  "MariaDB is not installed, so no MySQL server is started under DATA_DIR: the instance data panel works only with a MySQL server " +
  "configured (add one in the admin area, or install MariaDB: sudo apt-get install mariadb-server, and restart Ocim).";

export const MARIADB_ADMIN = "ocim";

export interface EmbeddedMariadb {
  host: string;
  port: number;
  username: string;
  password: string;
  child: Child;
}

/** Where a MariaDB program is: on PATH, or in /usr/sbin where Debian puts mariadbd (often not on a user's PATH). */
function findProgram(name: string): string | null {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`]).toString().trim();
  } catch {
    return ["/usr/sbin", "/usr/local/sbin"].map((dir) => path.join(dir, name)).find((bin) => existsSync(bin)) ?? null;
  }
}

let mariadbd: string | null | undefined;

/**
 * The path of mariadbd when MariaDB is installed (with mariadb-install-db, which makes its data
 * directory), else null. Looked up once per process: the instance page asks on every render, and
 * each lookup spawns shells (installing MariaDB means restarting Ocim, as the message says).
 */
export function findMariadbd(): string | null {
  if (mariadbd === undefined) mariadbd = findProgram("mariadb-install-db") ? findProgram("mariadbd") : null;
  return mariadbd;
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Run on every start, before the server accepts a connection: (re)sets the administrator's password
 * from the password file, so a regenerated file (or a data directory copied from elsewhere) is
 * taken up. In a file of mode 600, not on the command line, where `ps` would show it.
 * The password is base64url: nothing in it needs quoting.
 */
function initSql(password: string): string {
  return [
    `CREATE USER IF NOT EXISTS '${MARIADB_ADMIN}'@'127.0.0.1' IDENTIFIED BY '${password}';`,
    `ALTER USER '${MARIADB_ADMIN}'@'127.0.0.1' IDENTIFIED BY '${password}';`,
    `GRANT ALL PRIVILEGES ON *.* TO '${MARIADB_ADMIN}'@'127.0.0.1' WITH GRANT OPTION;`,
    "",
  ].join("\n");
}

/**
 * Starts MariaDB (on `options.port` when given: a restart that keeps the address the DataService row
 * names) and keeps it running (restarted if it dies) until its child is stopped.
 */
export async function startMariadb(
  dataRoot: string,
  bin: string,
  log: (line: string) => void,
  options: SuperviseOptions & { port?: number; /** More server options (the tests' TLS files). */ serverArgs?: string[] } = {},
): Promise<EmbeddedMariadb> {
  const dir = path.join(dataRoot, "mariadb");
  const dataDir = path.join(dir, "data");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700); // the socket, the init file and the data
  // mariadbd refuses to run as root unless told to; it then owns its files as root, like this process.
  const asUser = isRoot() ? ["--user=root"] : [];
  if (!existsSync(dataDir) || readdirSync(dataDir).length === 0) {
    // --auth-root-authentication-method=socket (the default): root@localhost logs in over the unix
    // socket as the OS's root only, never over TCP; the administrator Ocim uses is created below.
    execFileSync(findProgram("mariadb-install-db") ?? "mariadb-install-db", [
      "--no-defaults", `--datadir=${dataDir}`, "--skip-test-db", ...asUser,
    ], { stdio: "pipe", cwd: os.tmpdir() });
  }
  const password = readOrCreateSecret(path.join(dataRoot, "mariadb_password")).value;
  const initFile = path.join(dir, "init.sql");
  writeFileSync(initFile, initSql(password), { mode: 0o600 });
  chmodSync(initFile, 0o600);
  const pidFile = path.join(dir, "mariadbd.pid");
  const port = options.port ?? (await freePort());
  const args = [
    "--no-defaults", ...asUser, `--datadir=${dataDir}`, `--socket=${path.join(dir, "mariadbd.sock")}`, `--pid-file=${pidFile}`,
    `--port=${port}`, "--bind-address=127.0.0.1", "--skip-name-resolve", `--init-file=${initFile}`,
    // Small: it shares the machine with Ocim, PostgreSQL and the appservers.
    "--innodb-buffer-pool-size=64M", "--max-connections=200", "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
    ...(options.serverArgs ?? []),
  ];
  const child = await supervise("mariadb", async () => {
    await stopStale(pidFile, "SIGTERM");
    return startListening("mariadb", bin, args, log, port, 60_000, { stopSignal: "SIGTERM" });
  }, options);
  recordServer(path.join(dir, "server.json"), port);
  return { host: "127.0.0.1", port, username: MARIADB_ADMIN, password, child };
}
