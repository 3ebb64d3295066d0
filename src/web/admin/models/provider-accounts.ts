// Provider accounts in the admin. Credentials are write-only: the form never shows them, a blank
// field on edit keeps them, and the pages only say whether they are set.
import type { Prisma } from "../../../db.js";
import { saveProviderAccount } from "../../../domain/providers/save-provider-account.js";
import { deleteProviderAccount } from "../../../domain/providers/delete-provider-account.js";
import { PROVIDER_KINDS } from "../../../domain/instances/instance-input.js";
import { defineModel } from "../types.js";
import { choiceFilter, titled } from "./common.js";

const listSelect = { id: true, name: true, kind: true, credentialsEncrypted: true, updatedAt: true } as const;
type Row = Prisma.ProviderAccountGetPayload<{ select: typeof listSelect }>;

export const providerAccountAdmin = defineModel<Row>({
  slug: "provider-accounts",
  name: "Provider account",
  plural: "Provider accounts",
  description: "Where VMs come from: cloud credentials (encrypted) and settings.",
  subjectType: "ProviderAccount",
  titleOf: (row) => row.name,
  list: {
    columns: [
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/provider-accounts/${r.id}` }) },
      { label: "Kind", sort: "kind", cell: (r) => r.kind },
      { label: "Credentials", cell: (r) => (r.credentialsEncrypted ? "set" : "not set") },
      { label: "Updated", sort: "updatedAt", cell: (r) => r.updatedAt },
    ],
    search: { fields: ["name"], hint: "name" },
    filters: [choiceFilter("kind", "Kind", "kind", PROVIDER_KINDS)],
    defaultOrder: "name",
    // The encrypted credentials are read only to say "set"; they never leave this function's rows.
    fetch: (db, args) => db.providerAccount.findMany({ ...(args as Prisma.ProviderAccountFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.providerAccount.count({ where: where as Prisma.ProviderAccountWhereInput }),
  },
  form: {
    sections: [
      {
        title: "Provider account",
        fields: [
          { name: "name", label: "Name", kind: "text", required: true, maxLength: 100 },
          { name: "kind", label: "Kind", kind: "select", options: () => PROVIDER_KINDS.map((k) => ({ value: k, label: k })) },
          { name: "settings", label: "Settings", kind: "textarea", rows: 8, mono: true, maxLength: 16_000, help: 'A JSON object (not secrets). OpenStack needs authUrl, flavorRef, imageRef (names or ids), keyName, and for password credentials projectName (+ projectDomainName) or projectId; on a tenant network floatingNetwork (the external network). May have region, userDomainName, securityGroups, networks, sshUser, sshPort, workDir, computeInterface, deleteTimeoutSeconds (docs/providers.md).' },
        ],
      },
      {
        title: "Credentials",
        help: "Stored encrypted and never shown again.",
        fields: [
          { name: "credentials", label: "Credentials", kind: "secret", rows: 4, mono: true, maxLength: 16_000, help: 'A JSON object; OpenStack: {"username": "…", "password": "…", "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----…"}, or an application credential instead of the user: {"applicationCredentialId": "…", "applicationCredentialSecret": "…", "sshPrivateKey": "…"}. When editing, leave blank to keep the current credentials.' },
        ],
      },
    ],
    initial: () => ({ kind: "openstack", settings: "{}" }),
    async load(deps, id) {
      const a = await deps.db.providerAccount.findUnique({ where: { id } });
      if (!a) return null;
      return {
        title: a.name,
        values: { name: a.name, kind: a.kind, settings: JSON.stringify(a.settings, null, 2) },
        readOnly: [
          { label: "Credentials", value: a.credentialsEncrypted ? "set (encrypted)" : "not set" },
          { label: "Updated", value: a.updatedAt },
        ],
      };
    },
    save: async (deps, actor, id, values) => titled(await saveProviderAccount(deps, { actor, id, values })),
  },
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.providerAccount.findMany({ where: { id: { in: ids } }, select: { id: true, name: true }, orderBy: { name: "asc" } });
      return rows.map((r) => ({ id: r.id, title: r.name, consequences: ["Its encrypted credentials are deleted with it."] }));
    },
    run: (deps, actor, ids) => deleteProviderAccount(deps, { actor, ids }),
  },
});
