// Where an instance's shared services are, as the playbook variables need them (DESIGN §5b): read
// from the DataService rows the instance points at, in the caller's transaction, so a launch
// freezes the services as they were when it ran.
import type { z } from "zod";
import type { Prisma } from "../../db.js";
import type { Secrets } from "../../crypto.js";
import { AppError } from "../../errors.js";
import { DATA_KINDS } from "../../adapters/data/factory.js";
import type { DataEndpoints } from "../provisioning/data-variables.js";

const LABEL = { mysql: "MySQL server", mongodb: "MongoDB server", s3: "storage account" } as const;

export interface EndpointSource {
  mysqlServiceId: number | null;
  mongodbServiceId: number | null;
  storageServiceId: number | null;
}

export async function loadDataEndpoints(tx: Prisma.TransactionClient, secrets: Secrets, instance: EndpointSource): Promise<DataEndpoints> {
  const ids = [instance.mysqlServiceId, instance.mongodbServiceId, instance.storageServiceId].filter((id): id is number => id !== null);
  if (!ids.length) return {};
  const rows = await tx.dataService.findMany({ where: { id: { in: ids } } });
  const row = (id: number | null) => rows.find((r) => r.id === id);
  const unreadable = (r: { kind: keyof typeof LABEL; name: string }, what: string) =>
    new AppError("validation", `The ${LABEL[r.kind]} "${r.name}" of this instance has ${what}; fix it in the admin (Data services), then launch again.`);
  const parse = <T>(schema: z.ZodType<T>, r: { kind: keyof typeof LABEL; name: string }, value: unknown, what: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw unreadable(r, what);
    return parsed.data;
  };
  const endpoints: DataEndpoints = {};
  const mysql = row(instance.mysqlServiceId);
  // The adapters' own schemas (the ones the admin saved with): one reading of a service's settings.
  if (mysql) endpoints.mysql = parse(DATA_KINDS.mysql.settings, mysql, mysql.settings, "no valid host and port");
  const mongodb = row(instance.mongodbServiceId);
  if (mongodb) endpoints.mongodb = parse(DATA_KINDS.mongodb.settings, mongodb, mongodb.settings, "no valid host and port");
  const storage = row(instance.storageServiceId);
  if (storage) {
    let keys: unknown = null;
    try {
      keys = JSON.parse(secrets.decrypt(storage.credentialsEncrypted));
    } catch {
      // Left null: the parse below says the keys are missing, without the text it could not read.
    }
    const settings = parse(DATA_KINDS.s3.settings, storage, storage.settings, "unreadable settings");
    endpoints.storage = { ...settings, endpoint: settings.endpoint ?? "", ...parse(DATA_KINDS.s3.credentials, storage, keys, "no readable access keys") };
  }
  return endpoints;
}
