// What an instance looks like in its audit events: every setting, with the master key left out and
// secret-looking values in the extra variables masked (audit events outlive the settings and may be
// shown beyond the admin area).
import { isScalar, parseDocument, visit } from "yaml";
import { SECRET_VARIABLE_RE } from "../provisioning/variables.js";

/** Variable names whose values are secrets (…_PASSWORD, …_SECRET, …_TOKEN, …_KEY). */
export const MASK = "••••••";

export function maskYamlSecrets(text: string): string {
  if (!text.trim()) return text;
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length) return "(not shown: not valid YAML)";
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && SECRET_VARIABLE_RE.test(String(pair.key.value)) && pair.value !== null) {
        pair.value = doc.createNode(MASK);
      }
    },
  });
  return doc.toString();
}

// searchText is derived from the name and domains, which the view already shows.
const LEFT_OUT = new Set(["secretKeyEncrypted", "nextAppServerNumber", "searchText", "createdAt", "updatedAt", "id"]);

export function instanceAuditView(instance: Record<string, unknown>): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(instance)) {
    if (LEFT_OUT.has(key)) continue;
    view[key] = key === "extraAnsibleVars" && typeof value === "string" ? maskYamlSecrets(value) : value;
  }
  return view;
}

/**
 * The before/after views for an update's audit event. When only secret values of the extra
 * variables changed, the masked texts are equal, so the change is named instead of shown.
 */
export function instanceAuditViews(before: Record<string, unknown>, after: Record<string, unknown>): [Record<string, unknown>, Record<string, unknown>] {
  const b = instanceAuditView(before);
  const a = instanceAuditView(after);
  if (before.extraAnsibleVars !== after.extraAnsibleVars && b.extraAnsibleVars === a.extraAnsibleVars) {
    a.extraAnsibleVars = `${String(a.extraAnsibleVars)}# (secret values changed)\n`;
  }
  return [b, a];
}
