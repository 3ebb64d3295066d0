// A real MariaDB server for one test file (Debian's mariadb-server), started the way `npm start`
// starts its embedded one (src/embedded/mariadb.ts): its own data directory, socket and port on
// 127.0.0.1, an administrator with a generated password. Grant tables on, as on a real server.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findMariadbd, startMariadb, type EmbeddedMariadb } from "../../src/embedded/mariadb.js";

export interface MariadbServer {
  host: string;
  port: number;
  /** The administrator (ALL ON *.* WITH GRANT OPTION). */
  username: string;
  password: string;
  stop(): Promise<void>;
}

/** `serverArgs`: more mariadbd options, e.g. `--ssl-cert=…` for a server that offers TLS. */
export async function startMariadbServer(serverArgs: string[] = []): Promise<MariadbServer> {
  const bin = findMariadbd();
  if (!bin) throw new Error("mariadbd is not installed: apt-get install -y mariadb-server (.ci/run does)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocim-mariadb-"));
  let server: EmbeddedMariadb;
  try {
    server = await startMariadb(dir, bin, () => {}, { serverArgs });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: server.host, port: server.port, username: server.username, password: server.password,
    async stop() {
      await server.child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
