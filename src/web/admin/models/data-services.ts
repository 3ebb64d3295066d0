// Data services in the admin: the shared MySQL and MongoDB servers and S3 storage accounts that hold
// instances' data. Credentials are write-only like a provider account's; a save tests the connection.
import type { Prisma } from "../../../db.js";
import { DATA_KINDS } from "../../../adapters/data/factory.js";
import { requiredKeys } from "../../../domain/validation/json-settings.js";
import { DATA_SERVICE_KINDS, saveDataService } from "../../../domain/data/save-data-service.js";
import { deleteDataService } from "../../../domain/data/delete-data-service.js";
import { dataServiceUsers, inUseMessage } from "../../../domain/data/data-service-usage.js";
import { serviceLocation } from "../../../domain/data/instance-services.js";
import { defineModel } from "../types.js";
import { choiceFilter } from "./common.js";

const listSelect = { id: true, name: true, kind: true, settings: true, isDefault: true, credentialsEncrypted: true, updatedAt: true } as const;
type Row = Prisma.DataServiceGetPayload<{ select: typeof listSelect }>;

/** "s3: endpoint, region, forcePathStyle (required: …)" per kind, read from the adapters' schemas. */
function keysHelp(part: "settings" | "credentials"): string {
  return DATA_SERVICE_KINDS.map((k) => {
    const schema = DATA_KINDS[k][part];
    const keys = Object.keys(schema.shape);
    const required = requiredKeys(schema);
    return keys.length ? `${k}: ${keys.join(", ")}${required.length ? ` (required: ${required.join(", ")})` : ""}` : `${k}: see docs/admin.md`;
  }).join("; ");
}

export const dataServiceAdmin = defineModel<Row>({
  slug: "data-services",
  name: "Data service",
  plural: "Data services",
  description: "Shared MySQL and MongoDB servers and S3 storage that keep instances' data across appservers.",
  subjectType: "DataService",
  titleOf: (row) => row.name,
  list: {
    columns: [
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/data-services/${r.id}` }) },
      { label: "Kind", sort: "kind", cell: (r) => DATA_KINDS[r.kind].label },
      { label: "Where", cell: (r) => serviceLocation(r) },
      { label: "Default", sort: "isDefault", cell: (r) => (r.isDefault ? "yes" : "") },
      { label: "Credentials", cell: (r) => (r.credentialsEncrypted ? "set" : "not set") },
      { label: "Updated", sort: "updatedAt", cell: (r) => r.updatedAt },
    ],
    search: { fields: ["name"], hint: "name" },
    filters: [choiceFilter("kind", "Kind", "kind", DATA_SERVICE_KINDS)],
    defaultOrder: "name",
    fetch: (db, args) => db.dataService.findMany({ ...(args as Prisma.DataServiceFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.dataService.count({ where: where as Prisma.DataServiceWhereInput }),
  },
  form: {
    sections: [
      {
        title: "Data service",
        fields: [
          { name: "name", label: "Name", kind: "text", required: true, maxLength: 100 },
          { name: "kind", label: "Kind", kind: "select", options: () => DATA_SERVICE_KINDS.map((k) => ({ value: k, label: DATA_KINDS[k].label })) },
          { name: "settings", label: "Settings", kind: "textarea", rows: 6, mono: true, maxLength: 16_000, help: `A JSON object (not secrets). ${keysHelp("settings")}.` },
          { name: "isDefault", label: "Default for new instances", kind: "checkbox", help: "At most one per kind: choosing this one clears the other." },
        ],
      },
      {
        title: "Credentials",
        help: "An admin user (MySQL, MongoDB) or access keys (S3). Stored encrypted and never shown again. Saving tests the connection with them (MySQL, MongoDB: and that they may create, grant and drop a database and a user, on one of its own named ocim_check_…).",
        fields: [
          { name: "credentials", label: "Credentials", kind: "secret", rows: 3, mono: true, maxLength: 16_000, help: `A JSON object; ${keysHelp("credentials")}. When editing, leave blank to keep the current credentials.` },
        ],
      },
    ],
    initial: () => ({ kind: "s3", settings: "{}" }),
    async load(deps, id) {
      const s = await deps.db.dataService.findUnique({ where: { id } });
      if (!s) return null;
      return {
        title: s.name,
        values: { name: s.name, kind: s.kind, settings: JSON.stringify(s.settings, null, 2), isDefault: s.isDefault ? "true" : "false" },
        readOnly: [
          { label: "Credentials", value: s.credentialsEncrypted ? "set (encrypted)" : "not set" },
          { label: "Updated", value: s.updatedAt },
        ],
      };
    },
    async save(deps, actor, id, values) {
      const { service, version } = await saveDataService(deps, { actor, id, values });
      return { id: service.id, title: service.name, note: `Connection tested: ${version}.` };
    },
  },
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.dataService.findMany({ where: { id: { in: ids } }, select: { id: true, name: true }, orderBy: { name: "asc" } });
      return Promise.all(rows.map(async (r) => {
        const users = await dataServiceUsers(deps.db, r.id);
        return { id: r.id, title: r.name, consequences: ["Its encrypted credentials are deleted with it. Nothing on the service itself is touched."], ...(users.length ? { blocker: inUseMessage(users) } : {}) };
      }));
    },
    run: (deps, actor, ids) => deleteDataService(deps, { actor, ids }),
  },
});
