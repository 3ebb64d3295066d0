// A throwaway PgBouncer (Debian's package) in front of a test database, in transaction mode with one
// server connection: the pooler in front of PostgreSQL that some deployments have. Settings from
// https://www.pgbouncer.org/config.html; PgBouncer refuses to run as root, so root runs it as postgres.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./redis-server.js";
import { waitForPort } from "./wait.js";

export interface PgBouncer {
  /** The same database as the target's URL, through PgBouncer. */
  url: string;
  stop(): Promise<void>;
}

export async function startPgBouncer(targetUrl: string): Promise<PgBouncer> {
  const target = new URL(targetUrl);
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const database = target.pathname.slice(1);
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-pgbouncer-"));
  chmodSync(dir, 0o755);
  const ini = path.join(dir, "pgbouncer.ini");
  const users = path.join(dir, "userlist.txt");
  // The plain password in auth_file lets PgBouncer answer the client's SCRAM and log in to the server with it.
  writeFileSync(users, `"${user}" "${password}"\n`, { mode: 0o644 });
  writeFileSync(ini, [
    "[databases]",
    `${database} = host=${target.hostname} port=${target.port} dbname=${database}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = scram-sha-256",
    `auth_file = ${users}`,
    "pool_mode = transaction",
    "default_pool_size = 1",
    // pg sends these at connect; PgBouncer refuses a client with a startup parameter it does not know.
    "ignore_startup_parameters = statement_timeout,extra_float_digits",
  ].join("\n") + "\n", { mode: 0o644 });
  // Debian puts it in /usr/sbin, often off a user's PATH (bin/setup installs it).
  const bin = ["/usr/sbin/pgbouncer", "/usr/local/sbin/pgbouncer", "/usr/local/bin/pgbouncer", "/opt/homebrew/bin/pgbouncer"].find((p) => existsSync(p)) ?? "pgbouncer";
  const asRoot = process.getuid?.() === 0;
  const child = asRoot ? spawn("runuser", ["-u", "postgres", "--", bin, ini], { stdio: "ignore" }) : spawn(bin, [ini], { stdio: "ignore" });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await waitForPort("pgbouncer", port);
  const url = new URL(targetUrl);
  url.port = String(port);
  return {
    url: url.toString(),
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
