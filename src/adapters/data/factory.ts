// The adapter for a DataService row's kind, from its settings and decrypted credentials (checked
// here with each adapter's own schemas, so a row edited by hand fails with what is wrong).
// Stand-in until the S3 adapter lands: the lead takes that branch's version of this file.
import type { z } from "zod";
import { createMongodbAdapter, mongodbCredentialsSchema, mongodbSettingsSchema } from "./mongodb.js";
import { createMysqlAdapter, mysqlCredentialsSchema, mysqlSettingsSchema } from "./mysql.js";
import { DataServiceError, type DataServiceAdapter, type DataServiceKind } from "./port.js";

function parsed<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = result.error.issues.map((i) => i.path.join(".") || "(all)").join(", ");
    throw new DataServiceError(`The ${what} are not valid (${fields}); fix them in the admin (Data services).`, false);
  }
  return result.data;
}

export function createDataAdapter(kind: DataServiceKind, settings: unknown, credentials: unknown): DataServiceAdapter {
  switch (kind) {
    case "mysql":
      return createMysqlAdapter(parsed(mysqlSettingsSchema, settings, "MySQL settings"), parsed(mysqlCredentialsSchema, credentials, "MySQL credentials"));
    case "mongodb":
      return createMongodbAdapter(parsed(mongodbSettingsSchema, settings, "MongoDB settings"), parsed(mongodbCredentialsSchema, credentials, "MongoDB credentials"));
    case "s3":
      throw new DataServiceError("S3 storage is not available in this build", false);
  }
}
