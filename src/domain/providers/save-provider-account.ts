// Creates or changes a provider account from its form fields (account-fields.ts): a field per
// OpenStack setting, stored together as the settings JSON, and write-only credential fields, stored
// together as JSON encrypted with SECRET_KEY, never shown again, each blank field keeping its stored
// value. Every bad value fails its own field and nothing is saved. Audit events only say that the
// credentials changed. A local account has neither: its VMs come from Ocim's own settings.
import type { Deps } from "../../deps.js";
import type { Prisma } from "../../db.js";
import type { ProviderAccount } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { PROVIDER_KINDS } from "../instances/instance-input.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { AUTH_METHODS, CREDENTIAL_FIELDS, SETTING_FIELDS, readOpenstackCredentials, readOpenstackSettings, storedAuthMethod } from "./account-fields.js";
import { readStoredCredentials } from "./stored-credentials.js";

export const PROVIDER_ACCOUNT_FIELDS = ["name", "kind", "auth", ...SETTING_FIELDS, ...CREDENTIAL_FIELDS] as const;
const MASK = "••••••";
const LOCAL_DROPS = "A local account has no settings or credentials (its VMs come from Ocim's own settings): the OpenStack values were not kept.";

export interface SaveProviderAccountInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  /** The form's fields (PROVIDER_ACCOUNT_FIELDS); `settingsToValues` turns a settings object into them. */
  values: Input;
}

interface AccountData {
  name: string;
  kind: (typeof PROVIDER_KINDS)[number];
  settings: Record<string, unknown>;
  /** Plain JSON to encrypt, or null to leave the stored credentials as they are. */
  credentials: string | null;
  /** What the success message adds. */
  note?: string;
}

const NAME_TAKEN = "Another provider account already has this name.";

/** Every field checked at once, a duplicate name too, so the form shows all its problems together. */
async function readAccount(tx: Prisma.TransactionClient, values: Input, before: ProviderAccount | null, stored: Record<string, unknown> | null): Promise<AccountData> {
  const r = new FieldReader(values, PROVIDER_ACCOUNT_FIELDS);
  const name = r.text("name", { required: true, max: 100 });
  if (name && (await tx.providerAccount.count({ where: { name, ...(before ? { id: { not: before.id } } : {}) } }))) r.fail("name", NAME_TAKEN);
  const kind = r.choice("kind", PROVIDER_KINDS) ?? "local";
  if (kind === "local") {
    if (!r.ok) throw validationError(r.errors);
    // The form sends every field; a select's default is not a value the admin typed.
    const typed = [...SETTING_FIELDS, ...CREDENTIAL_FIELDS].filter((k) => k !== "computeInterface").some((k) => typeof values[k] === "string" && values[k].trim());
    const had = Boolean(before?.credentialsEncrypted) || Object.keys((before?.settings as object | null) ?? {}).length > 0;
    return { name, kind, settings: {}, credentials: before?.credentialsEncrypted ? "" : null, ...(typed || had ? { note: LOCAL_DROPS } : {}) };
  }
  const method = r.choice("auth", AUTH_METHODS, storedAuthMethod(stored)) ?? "password";
  const settings = readOpenstackSettings(r);
  const { credentials, changed } = readOpenstackCredentials(r, method, settings, stored);
  if (!r.ok) throw validationError(r.errors);
  return { name, kind, settings, credentials: changed ? JSON.stringify(credentials) : null };
}

function auditView(account: ProviderAccount, credentialsChanged: boolean): Record<string, unknown> {
  const credentials = account.credentialsEncrypted ? (credentialsChanged ? `${MASK} (new)` : MASK) : "";
  return { name: account.name, kind: account.kind, settings: account.settings, credentials };
}

export async function saveProviderAccount(deps: Pick<Deps, "db" | "secrets">, input: SaveProviderAccountInput): Promise<{ account: ProviderAccount; note?: string }> {
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.providerAccount.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Provider account");
      const stored = before?.kind === "openstack" ? readStoredCredentials(deps.secrets, before.credentialsEncrypted) : null;
      const data = await readAccount(tx, input.values, before, stored);
      const fields = {
        name: data.name, kind: data.kind, settings: data.settings as object,
        ...(data.credentials === null ? {} : { credentialsEncrypted: data.credentials ? deps.secrets.encrypt(data.credentials) : "" }),
      };
      const beforeView = before && auditView(before, false);
      const note = data.note ? { note: data.note } : {};
      if (before && data.credentials === null && !Object.keys(diffRecords(beforeView, { ...beforeView, ...fields })).length) return { account: before, ...note };
      const after = before
        ? await tx.providerAccount.update({ where: { id: before.id }, data: fields })
        : await tx.providerAccount.create({ data: fields });
      await recordAuditEvent(tx, {
        actor: input.actor, action: before ? "provider_account.updated" : "provider_account.created", subjectType: "ProviderAccount",
        subjectId: after.id, subjectName: after.name, before: beforeView, after: auditView(after, Boolean(data.credentials)),
      });
      return { account: after, ...note };
    });
  } catch (err) {
    // Another save of the same name between the check in readAccount and this one.
    rethrowUniqueViolation(err, { name: NAME_TAKEN });
  }
}
