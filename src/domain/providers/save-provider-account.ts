// Creates or changes a provider account. Its settings are JSON (auth URL, region, flavor…); its
// credentials are JSON too, write-only: encrypted with SECRET_KEY, never shown again, and left as
// they are when an edit leaves them blank. Audit events only say that they changed. An OpenStack
// account's settings and credentials are checked against the adapter's schemas (openstack-settings.ts).
import type { Deps } from "../../deps.js";
import { openstackCredentialsSchema, openstackSettingsSchema } from "../../adapters/provider/openstack-settings.js";
import type { ProviderAccount } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { PROVIDER_KINDS } from "../instances/instance-input.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { rethrowUniqueViolation } from "../validation/unique-violation.js";
import { CREDENTIALS_NOT_JSON, checkShape, parseJsonObject } from "../validation/json-settings.js";

export const PROVIDER_ACCOUNT_FIELDS = ["name", "kind", "settings", "credentials"] as const;
const MASK = "••••••";
const PROJECT_NEEDED = 'Password credentials need the project: "projectName" (with "projectDomainName" unless it is Default) or "projectId". An application credential brings its own project.';
const CREDENTIALS_NEEDED = 'Required for an OpenStack account: a JSON object with "sshPrivateKey" and either "username" and "password", or "applicationCredentialId" and "applicationCredentialSecret".';

export interface SaveProviderAccountInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

// Settings are checked strictly (a misspelt optional key would be silently ignored otherwise);
// credentials are not, so that no message ever repeats a key someone may have pasted a secret into.
const OPENSTACK_SETTINGS = openstackSettingsSchema.strict();

function readAccount(values: Input) {
  const r = new FieldReader(values, PROVIDER_ACCOUNT_FIELDS);
  const name = r.text("name", { required: true, max: 100 });
  const kind = r.choice("kind", PROVIDER_KINDS) ?? "local";
  const settingsText = r.text("settings", { max: 16_000 }) || "{}";
  const settings = parseJsonObject(settingsText);
  if ("error" in settings) r.fail("settings", settings.error);
  else if (kind === "openstack") checkShape(r, "settings", OPENSTACK_SETTINGS, settings.value, "OpenStack");
  const credentials = r.text("credentials", { max: 16_000 });
  const parsedCredentials = credentials ? parseJsonObject(credentials) : null;
  if (parsedCredentials && "error" in parsedCredentials) r.fail("credentials", CREDENTIALS_NOT_JSON);
  else if (parsedCredentials && kind === "openstack") {
    const creds = checkShape(r, "credentials", openstackCredentialsSchema, parsedCredentials.value, "OpenStack");
    // A password is scoped to a project the settings name; an application credential brings its own.
    const s = "value" in settings ? settings.value : {};
    if (creds && !creds.applicationCredentialId && !s.projectName && !s.projectId && r.ok) r.fail("settings", PROJECT_NEEDED);
  }
  if (!r.ok) throw validationError(r.errors);
  return { name, kind, settings: "value" in settings ? settings.value : {}, credentials };
}

function auditView(account: ProviderAccount, credentialsChanged: boolean): Record<string, unknown> {
  const credentials = account.credentialsEncrypted ? (credentialsChanged ? `${MASK} (new)` : MASK) : "";
  return { name: account.name, kind: account.kind, settings: account.settings, credentials };
}

export async function saveProviderAccount(deps: Pick<Deps, "db" | "secrets">, input: SaveProviderAccountInput): Promise<ProviderAccount> {
  const data = readAccount(input.values);
  try {
    return await deps.db.$transaction(async (tx) => {
      const before = input.id === undefined ? null : await tx.providerAccount.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Provider account");
      if (data.kind === "openstack" && !data.credentials && !before?.credentialsEncrypted) {
        throw validationError({ credentials: CREDENTIALS_NEEDED });
      }
      const fields = {
        name: data.name, kind: data.kind, settings: data.settings as object,
        ...(data.credentials ? { credentialsEncrypted: deps.secrets.encrypt(data.credentials) } : {}),
      };
      const beforeView = before && auditView(before, false);
      if (before && !data.credentials && !Object.keys(diffRecords(beforeView, { ...beforeView, ...fields })).length) return before;
      const after = before
        ? await tx.providerAccount.update({ where: { id: before.id }, data: fields })
        : await tx.providerAccount.create({ data: fields });
      await recordAuditEvent(tx, {
        actor: input.actor, action: before ? "provider_account.updated" : "provider_account.created", subjectType: "ProviderAccount",
        subjectId: after.id, subjectName: after.name, before: beforeView, after: auditView(after, Boolean(data.credentials)),
      });
      return after;
    });
  } catch (err) {
    rethrowUniqueViolation(err, { name: "Another provider account already has this name." });
  }
}
