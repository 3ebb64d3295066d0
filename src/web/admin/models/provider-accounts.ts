// Provider accounts in the admin: a field per OpenStack setting and per credential. Credentials are
// write-only: the form never shows them, a blank field on edit keeps its stored value, and the page
// only says which are set. "Test connection" (test-connection-pages.ts) checks a saved account.
import type { Prisma } from "../../../db.js";
import { saveProviderAccount } from "../../../domain/providers/save-provider-account.js";
import { AUTH_LABELS, AUTH_METHODS, settingsToValues } from "../../../domain/providers/account-fields.js";
import { describeStoredCredentials } from "../../../domain/providers/stored-credentials.js";
import { deleteProviderAccount } from "../../../domain/providers/delete-provider-account.js";
import { PROVIDER_KINDS } from "../../../domain/instances/instance-input.js";
import { defineModel } from "../types.js";
import { choiceFilter, titled } from "./common.js";

const listSelect = { id: true, name: true, kind: true, credentialsEncrypted: true, updatedAt: true } as const;
type Row = Prisma.ProviderAccountGetPayload<{ select: typeof listSelect }>;

const OPENSTACK_ONLY = { field: "kind", value: "openstack" };

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
          { name: "kind", label: "Kind", kind: "select", options: () => [{ value: "openstack", label: "openstack (VMs on an OpenStack cloud)" }, { value: "local", label: "local (sshd \"VMs\" on this host, for development)" }], help: "A local account needs nothing below: its VMs come from Ocim's own settings (LOCAL_VM_*)." },
        ],
      },
      {
        title: "OpenStack: where to sign in",
        showWhen: OPENSTACK_ONLY,
        help: "Only for an openstack account. docs/providers.md says what to prepare in the project.",
        fields: [
          { name: "authUrl", label: "Keystone URL", kind: "text", maxLength: 500, mono: true, placeholder: "https://keystone.example.com:5000/v3", help: "Identity v3; /v3 is added when missing." },
          { name: "region", label: "Region", kind: "text", maxLength: 500, half: true, placeholder: "the first one in the catalog" },
          { name: "computeInterface", label: "Endpoint interface", kind: "select", half: true, options: () => ["public", "internal", "admin"].map((v) => ({ value: v, label: v })) },
          { name: "projectName", label: "Project name", kind: "text", maxLength: 500, half: true, help: "For a user name and password (or the project id)." },
          { name: "projectDomainName", label: "Project domain", kind: "text", maxLength: 500, half: true, placeholder: "Default" },
          { name: "projectId", label: "Project id", kind: "text", maxLength: 500, half: true, mono: true, help: "Instead of the name and domain." },
          { name: "userDomainName", label: "User domain", kind: "text", maxLength: 500, half: true, placeholder: "Default" },
        ],
      },
      {
        title: "OpenStack: the VMs",
        showWhen: OPENSTACK_ONLY,
        help: "Names or ids: a name is looked up (it must be unique; give the id otherwise).",
        fields: [
          { name: "flavorRef", label: "Flavor", kind: "text", maxLength: 500, half: true, placeholder: "m1.large" },
          { name: "imageRef", label: "Image", kind: "text", maxLength: 500, half: true, placeholder: "ubuntu-24.04" },
          { name: "keyName", label: "Key pair", kind: "text", maxLength: 500, half: true, help: "The Nova key pair; its private half goes in the credentials below." },
          { name: "floatingNetwork", label: "External network", kind: "text", maxLength: 500, half: true, placeholder: "public", help: "Floating IPs come from it, on a tenant network. Blank: the VM's own address is used." },
          { name: "networks", label: "Networks", kind: "textarea", rows: 2, maxLength: 6_000, help: "One per line. Blank: Nova picks the project's only network." },
          { name: "securityGroups", label: "Security groups", kind: "textarea", rows: 2, maxLength: 6_000, help: "One per line. Blank: the project's default group." },
          { name: "sshUser", label: "SSH user", kind: "text", maxLength: 500, half: true, mono: true, placeholder: "ubuntu" },
          { name: "sshPort", label: "SSH port", kind: "number", half: true, placeholder: "22" },
          { name: "workDir", label: "Working directory", kind: "text", maxLength: 500, half: true, mono: true, placeholder: "~/ocim of the SSH user" },
          { name: "deleteTimeoutSeconds", label: "Deletion timeout (seconds)", kind: "number", half: true, placeholder: "300" },
        ],
      },
      {
        title: "OpenStack: credentials",
        showWhen: OPENSTACK_ONLY,
        help: "Write-only: stored encrypted and never shown again. A blank field keeps the stored value; the details above say which are set.",
        fields: [
          { name: "auth", label: "Sign in with", kind: "select", options: () => AUTH_METHODS.map((m) => ({ value: m, label: AUTH_LABELS[m] })), help: "An application credential (recommended) brings its own project. Switching removes the other method's stored values." },
          { name: "username", label: "User name", kind: "secret", half: true, maxLength: 2_000 },
          { name: "password", label: "Password", kind: "secret", half: true, maxLength: 2_000 },
          { name: "applicationCredentialId", label: "Application credential id", kind: "secret", half: true, maxLength: 2_000 },
          { name: "applicationCredentialSecret", label: "Application credential secret", kind: "secret", half: true, maxLength: 2_000 },
          { name: "sshPrivateKey", label: "SSH private key", kind: "secret", rows: 4, mono: true, maxLength: 16_000, placeholder: "-----BEGIN OPENSSH PRIVATE KEY----- … (write-only: not shown)" },
        ],
      },
    ],
    initial: () => ({ kind: "openstack", computeInterface: "public", auth: "application_credential" }),
    async load(deps, id) {
      const a = await deps.db.providerAccount.findUnique({ where: { id } });
      if (!a) return null;
      const credentials = describeStoredCredentials(deps.secrets, a.credentialsEncrypted);
      return {
        title: a.name,
        values: { name: a.name, kind: a.kind, computeInterface: "public", ...settingsToValues(a.settings), auth: credentials.auth },
        readOnly: [
          { label: "Credentials", value: credentials.summary },
          { label: "Updated", value: a.updatedAt },
        ],
      };
    },
    async save(deps, actor, id, values) {
      const { account, note } = await saveProviderAccount(deps, { actor, id, values });
      return { ...titled(account), ...(note ? { note } : {}) };
    },
  },
  historyLabels: { settings: "Settings", credentials: "Credentials", result: "Connection test", findings: "Found" },
  extras: async (_deps, id) => ({
    actions: [{ path: `/admin/provider-accounts/${id}/test`, label: "Test connection", help: "Signs in and looks up the flavor, image, networks and key pair (OpenStack), or checks this host (local). Creates nothing on the cloud." }],
    panels: [],
  }),
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.providerAccount.findMany({ where: { id: { in: ids } }, select: { id: true, name: true }, orderBy: { name: "asc" } });
      return rows.map((r) => ({ id: r.id, title: r.name, consequences: ["Its encrypted credentials are deleted with it."] }));
    },
    run: (deps, actor, ids) => deleteProviderAccount(deps, { actor, ids }),
  },
});
