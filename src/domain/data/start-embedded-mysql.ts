// The MySQL server of the single-node default (DESIGN §5b): `npm start` runs a MariaDB under
// DATA_DIR/mariadb when one is installed and no other MySQL server is configured, and records it as
// the default DataService of kind mysql, so instances get their databases with no set-up.
// The row named EMBEDDED_MYSQL_NAME is Ocim's own: each start brings its port and password up to date.
import { mysqlCredentialsSchema, mysqlSettingsSchema, type MysqlSettings } from "../../adapters/data/mysql.js";
import type { Deps } from "../../deps.js";
import { MARIADB_MISSING, startMariadb } from "../../embedded/mariadb.js";
import { portFree, type Child } from "../../embedded/processes.js";
import type { SuperviseOptions } from "../../embedded/supervise.js";
import { OCIM } from "../appservers/lifecycle.js";
import { recordAuditEvent } from "../audit/record-audit-event.js";

export const EMBEDDED_MYSQL_NAME = "Embedded MySQL";

export interface StartEmbeddedMysqlInput {
  dataDir: string;
  /** mariadbd's path (findMariadbd()), or null when MariaDB is not installed. */
  mariadbd: string | null;
  supervise?: SuperviseOptions;
}

export type EmbeddedMysql =
  | { state: "started"; child: Child; port: number }
  /** Another MySQL server is configured: nothing to start. */
  | { state: "not_needed" }
  /** MariaDB is not installed: `message` says what that means and how to install it. */
  | { state: "missing"; message: string };

type Row = { id: number; name: string; settings: unknown; credentialsEncrypted: string };

export async function startEmbeddedMysql(deps: Pick<Deps, "db" | "secrets" | "log">, input: StartEmbeddedMysqlInput): Promise<EmbeddedMysql> {
  const services: Row[] = await deps.db.dataService.findMany({
    where: { kind: "mysql" }, select: { id: true, name: true, settings: true, credentialsEncrypted: true }, orderBy: { id: "asc" },
  });
  const embedded = services.find((s) => s.name === EMBEDDED_MYSQL_NAME) ?? null;
  if (services.length && !embedded) return { state: "not_needed" };
  if (!input.mariadbd) {
    deps.log.info({ reason: MARIADB_MISSING }, "embedded.mariadb.missing");
    return { state: "missing", message: MARIADB_MISSING };
  }
  // The port the row (and so every appserver's variables) names, while it is free.
  const previous = embedded ? mysqlSettingsSchema.safeParse(embedded.settings).data?.port : undefined;
  const port = previous && (await portFree(previous)) ? previous : undefined;
  const server = await startMariadb(input.dataDir, input.mariadbd, (line) => deps.log.debug({ line }, "mariadb.output"), { log: deps.log, ...input.supervise, port });
  try {
    await recordService(deps, embedded, { host: server.host, port: server.port, tls: false, connectTimeoutSeconds: 10 }, { username: server.username, password: server.password });
  } catch (err) {
    await server.child.stop(); // the caller never gets it to stop
    throw err;
  }
  deps.log.info({ port: server.port }, "embedded.mariadb.started");
  return { state: "started", child: server.child, port: server.port };
}

const MASK = "••••••";

/** The row's administrator, or null when it has none or it was sealed under another SECRET_KEY (then rewritten). */
function readCredentials(deps: Pick<Deps, "secrets">, sealed: string) {
  try {
    return mysqlCredentialsSchema.safeParse(JSON.parse(deps.secrets.decrypt(sealed))).data ?? null;
  } catch {
    return null;
  }
}

async function recordService(
  deps: Pick<Deps, "db" | "secrets">, row: Row | null, settings: MysqlSettings, credentials: { username: string; password: string },
): Promise<void> {
  const current = row && readCredentials(deps, row.credentialsEncrypted);
  const sameSettings = row && JSON.stringify(mysqlSettingsSchema.safeParse(row.settings).data) === JSON.stringify(mysqlSettingsSchema.parse(settings));
  const sameCredentials = current?.username === credentials.username && current.password === credentials.password;
  if (row && sameSettings && sameCredentials) return;
  const fields = { settings, credentialsEncrypted: deps.secrets.encrypt(JSON.stringify(credentials)) };
  await deps.db.$transaction(async (tx) => {
    const saved = row
      ? await tx.dataService.update({ where: { id: row.id }, data: fields })
      : await tx.dataService.create({ data: { name: EMBEDDED_MYSQL_NAME, kind: "mysql", isDefault: true, ...fields } });
    const view = (s: unknown, credentialsText: string) => ({ name: EMBEDDED_MYSQL_NAME, kind: "mysql", settings: s, credentials: credentialsText });
    await recordAuditEvent(tx, {
      actor: OCIM, action: row ? "data_service.updated" : "data_service.created", subjectType: "DataService", subjectId: saved.id,
      subjectName: saved.name, before: row && view(row.settings, MASK), after: view(settings, sameCredentials ? MASK : `${MASK} (new)`),
    });
  });
}
