// Creates or changes a data service (a MySQL server, a MongoDB server, an S3 storage account).
// Settings are JSON checked by the kind's adapter schema; credentials are JSON too, write-only
// (encrypted, never shown, kept when an edit leaves them blank). Before anything is saved the
// connection is tested with the adapter's check(): a service Ocim cannot use is never stored.
// "Default for new instances" is one per kind: setting it clears the other in the same transaction.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import { AppError, notFound, validationError } from "../../errors.js";
import type { DataService } from "../../generated/prisma/client.ts";
import type { DataServiceKind } from "../../generated/prisma/enums.ts";
import { DATA_KINDS } from "../../adapters/data/factory.js";
import { DataServiceError } from "../../adapters/data/port.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { CREDENTIALS_NOT_JSON, checkShape, parseJsonObject } from "../validation/json-settings.js";
import { dataServiceUsers, inUseMessage } from "./data-service-usage.js";
import { adapterFor, withDeadline } from "./instance-services.js";

export const DATA_SERVICE_FIELDS = ["name", "kind", "settings", "credentials", "isDefault"] as const;
export const DATA_SERVICE_KINDS = Object.keys(DATA_KINDS) as DataServiceKind[];
const MASK = "••••••";
/** The connection test's deadline: a silent server fails the save rather than hanging the request. */
const CHECK_MS = 15_000;

export interface SaveDataServiceInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

/** Settings strictly (a misspelt key would be ignored otherwise) when the schema lists its keys. */
function settingsSchema(kind: DataServiceKind) {
  const schema = DATA_KINDS[kind].settings;
  return Object.keys(schema.shape).length ? schema.strict() : schema;
}

const NAME_TAKEN = "Another data service already has this name.";

/**
 * Every check that needs no connection, all at once (the form shows each problem next to its field)
 * and before the connection test, so a duplicate name or a typo does not wait for a slow server.
 */
async function readService(db: Deps["db"], values: Input, before: DataService | null) {
  const r = new FieldReader(values, DATA_SERVICE_FIELDS);
  const name = r.text("name", { required: true, max: 100 });
  const kind = r.choice("kind", DATA_SERVICE_KINDS) ?? "s3";
  const label = DATA_KINDS[kind].label;
  const settingsText = r.text("settings", { max: 16_000 }) || "{}";
  const parsed = parseJsonObject(settingsText);
  let settings: Record<string, unknown> = {};
  if ("error" in parsed) r.fail("settings", parsed.error);
  else settings = checkShape(r, "settings", settingsSchema(kind), parsed.value, label) ?? parsed.value;
  const credentialsText = r.text("credentials", { max: 16_000 });
  const credentials = credentialsText ? parseJsonObject(credentialsText) : null;
  if (credentials && "error" in credentials) r.fail("credentials", CREDENTIALS_NOT_JSON);
  else if (credentials) checkShape(r, "credentials", DATA_KINDS[kind].credentials, credentials.value, label);
  // Stored credentials belong to the stored kind: a new kind needs its own.
  const keepsCredentials = before && before.kind === kind ? before.credentialsEncrypted : "";
  if (!credentialsText && !keepsCredentials && !r.hasError("credentials")) {
    r.fail("credentials", `Required: a JSON object with ${Object.keys(DATA_KINDS[kind].credentials.shape).map((k) => `"${k}"`).join(", ") || "the admin user's credentials"}.`);
  }
  if (before && before.kind !== kind) {
    const users = await dataServiceUsers(db, before.id);
    if (users.length) r.fail("kind", `The kind cannot change: ${inUseMessage(users)}`);
  }
  if (name && (await db.dataService.count({ where: { name, ...(before ? { id: { not: before.id } } : {}) } }))) r.fail("name", NAME_TAKEN);
  const isDefault = r.bool("isDefault");
  if (!r.ok) throw validationError(r.errors);
  return { name, kind, settings, credentialsText, keepsCredentials, isDefault };
}

function auditView(s: DataService, credentialsChanged: boolean): Record<string, unknown> {
  const credentials = s.credentialsEncrypted ? (credentialsChanged ? `${MASK} (new)` : MASK) : "";
  return { name: s.name, kind: s.kind, settings: s.settings, credentials, isDefault: s.isDefault };
}

/** Runs the adapter's check() with what would be saved; its failure says what failed, and nothing is saved. */
async function testConnection(deps: Pick<Deps, "secrets">, row: { name: string; kind: DataServiceKind; settings: unknown; credentialsEncrypted: string }): Promise<string> {
  try {
    const adapter = adapterFor(deps, { id: 0, ...row });
    try {
      return (await withDeadline(adapter.check(), CHECK_MS)).version;
    } finally {
      await adapter.close();
    }
  } catch (err) {
    if (!(err instanceof DataServiceError)) throw err;
    throw new AppError("validation", `The connection test failed, so nothing was saved: ${err.message}`, { fields: {} });
  }
}

/** The kind's previous default is no longer one; audited as its own change. */
async function clearOtherDefault(tx: Prisma.TransactionClient, actor: Actor, kind: DataServiceKind, keep: number | undefined): Promise<void> {
  const others = await tx.dataService.findMany({ where: { kind, isDefault: true, ...(keep === undefined ? {} : { id: { not: keep } }) } });
  for (const other of others) {
    await tx.dataService.update({ where: { id: other.id }, data: { isDefault: false } });
    await recordAuditEvent(tx, {
      actor, action: "data_service.updated", subjectType: "DataService", subjectId: other.id, subjectName: other.name,
      before: auditView(other, false), after: auditView({ ...other, isDefault: false }, false),
    });
  }
}

export async function saveDataService(deps: Pick<Deps, "db" | "secrets">, input: SaveDataServiceInput): Promise<{ service: DataService; version: string }> {
  const before = input.id === undefined ? null : await deps.db.dataService.findUnique({ where: { id: input.id } });
  if (input.id !== undefined && !before) throw notFound("Data service");
  const data = await readService(deps.db, input.values, before);
  const credentialsEncrypted = data.credentialsText ? deps.secrets.encrypt(data.credentialsText) : data.keepsCredentials;
  const version = await testConnection(deps, { name: data.name, kind: data.kind, settings: data.settings, credentialsEncrypted });
  try {
    const service = await deps.db.$transaction(async (tx) => {
      const fields = { name: data.name, kind: data.kind, settings: data.settings as object, credentialsEncrypted, isDefault: data.isDefault };
      if (data.isDefault) await clearOtherDefault(tx, input.actor, data.kind, before?.id);
      const beforeView = before && auditView(before, false);
      const after = before ? await tx.dataService.update({ where: { id: before.id }, data: fields }) : await tx.dataService.create({ data: fields });
      const afterView = auditView(after, Boolean(data.credentialsText));
      if (!before || Object.keys(diffRecords(beforeView, afterView)).length) {
        await recordAuditEvent(tx, {
          actor: input.actor, action: before ? "data_service.updated" : "data_service.created", subjectType: "DataService",
          subjectId: after.id, subjectName: after.name, before: beforeView, after: afterView,
        });
      }
      return after;
    });
    return { service, version };
  } catch (err) {
    // Another save of the same name between the check above and this one.
    rethrowUniqueViolation(err, { name: NAME_TAKEN });
  }
}
