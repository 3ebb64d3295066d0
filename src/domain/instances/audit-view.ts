// What an instance looks like in its audit events: every setting, with the master key left out and
// secret values masked in the extra variables and the bootstrap command (audit events outlive the
// settings and may be shown beyond the admin area). A secret that changed shows as CHANGED.
import { createMasker, maskYaml, type Masker, type MaskerOptions } from "../secrets/mask-secrets.js";
import { settingSecrets, type SecretBearingSettings } from "../secrets/instance-secrets.js";

// searchText and sortName are derived from the name and domains, which the view already shows.
// The admin's history hides these keys too, in the events recorded before one was left out here.
export const LEFT_OUT_OF_AUDIT = [
  "secretKeyEncrypted", "jwtKeyEncrypted", "searchText", "sortName", "createdAt", "updatedAt", "id",
] as const;
const LEFT_OUT: ReadonlySet<string> = new Set(LEFT_OUT_OF_AUDIT);

type InstanceRecord = Record<string, unknown> & SecretBearingSettings;

function auditView(instance: InstanceRecord, mask: Masker, opts: MaskerOptions): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(instance)) {
    if (LEFT_OUT.has(key)) continue;
    if (key === "extraAnsibleVars") view[key] = maskYaml(instance.extraAnsibleVars, mask, opts) ?? "(not shown: not valid YAML)";
    else view[key] = typeof value === "string" ? mask(value) : value;
  }
  return view;
}

export function instanceAuditView(instance: InstanceRecord): Record<string, unknown> {
  return auditView(instance, createMasker(settingSecrets(instance)), {});
}

/** The before/after views for an update's audit event; in `after`, a secret not in `before` shows as CHANGED. */
export function instanceAuditViews(before: InstanceRecord, after: InstanceRecord): [Record<string, unknown>, Record<string, unknown>] {
  const previous = settingSecrets(before);
  const secrets = [...previous, ...settingSecrets(after)];
  return [auditView(before, createMasker(secrets), {}), auditView(after, createMasker(secrets, { previous }), { previous })];
}
