// Where an instance's shared services are, as the playbook variables need them (DESIGN §5b): read
// from the DataService rows the instance points at, in the caller's transaction, so a launch
// freezes the services as they were when it ran.
import { z } from "zod";
import type { Prisma } from "../../db.js";
import type { Secrets } from "../../crypto.js";
import { AppError } from "../../errors.js";
import type { DataEndpoints } from "../provisioning/data-variables.js";

// Only what the variables use: the admin's own schema (the adapters') checks the rest at save.
const DATABASE = z.object({ host: z.string().min(1), port: z.coerce.number().int().min(1).max(65535), tls: z.boolean().default(false) });
const STORAGE = z.object({ endpoint: z.string().default(""), region: z.string().default("us-east-1"), forcePathStyle: z.boolean().default(false) });
const STORAGE_KEYS = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });

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
  if (mysql) endpoints.mysql = parse(DATABASE, mysql, mysql.settings, "no valid host and port");
  const mongodb = row(instance.mongodbServiceId);
  if (mongodb) endpoints.mongodb = parse(DATABASE, mongodb, mongodb.settings, "no valid host and port");
  const storage = row(instance.storageServiceId);
  if (storage) {
    let keys: unknown = null;
    try {
      keys = JSON.parse(secrets.decrypt(storage.credentialsEncrypted));
    } catch {
      // Left null: the parse below says the keys are missing, without the text it could not read.
    }
    endpoints.storage = { ...parse(STORAGE, storage, storage.settings, "unreadable settings"), ...parse(STORAGE_KEYS, storage, keys, "no readable access keys") };
  }
  return endpoints;
}
