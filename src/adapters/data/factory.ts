// Builds the adapter for a DataService row: its kind chooses the adapter, whose own schemas check
// the settings (plain JSON) and the decrypted credentials. A bad row says which keys are wrong,
// never their values (the credentials pass through here).
import type { z } from "zod";
import { describeSchemaIssues } from "../../schema-issues.js";
import { DataServiceError, type DataServiceAdapter, type DataServiceKind } from "./port.js";
import { createMysqlAdapter, mysqlCredentialsSchema, mysqlSettingsSchema } from "./mysql.js";
import { createMongodbAdapter, mongodbCredentialsSchema, mongodbSettingsSchema } from "./mongodb.js";
import { createS3Adapter, s3CredentialsSchema, s3SettingsSchema } from "./s3.js";

/** Each kind's schemas and constructor; the admin form reads the schemas from here too. */
export const DATA_KINDS = {
  mysql: { label: "MySQL", settings: mysqlSettingsSchema, credentials: mysqlCredentialsSchema, create: createMysqlAdapter },
  mongodb: { label: "MongoDB", settings: mongodbSettingsSchema, credentials: mongodbCredentialsSchema, create: createMongodbAdapter },
  s3: { label: "Storage (S3)", settings: s3SettingsSchema, credentials: s3CredentialsSchema, create: createS3Adapter },
} as const satisfies Record<DataServiceKind, { label: string; settings: z.ZodType; credentials: z.ZodType; create: (s: never, c: never) => DataServiceAdapter }>;

function parse<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  // A stored row that no longer fits is the same on every try: not transient.
  if (!parsed.success) throw new DataServiceError(`The ${what} are not valid: ${describeSchemaIssues(raw, parsed.error.issues)}.`, false);
  return parsed.data;
}

export function createDataAdapter(kind: DataServiceKind, settings: unknown, credentials: unknown): DataServiceAdapter {
  const k = DATA_KINDS[kind];
  if (!k) throw new DataServiceError(`Unknown data service kind "${String(kind)}".`, false);
  const label = k.label;
  return (k.create as (s: unknown, c: unknown) => DataServiceAdapter)(parse(k.settings, settings, `${label} settings`), parse(k.credentials, credentials, `${label} credentials`));
}
