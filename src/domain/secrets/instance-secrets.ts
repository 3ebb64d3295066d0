// The secret values of an instance's settings and of an appserver's frozen copy of them, and what
// operators see of those settings (docs/security.md).
import { createMasker, maskYaml, secretValuesIn, secretValuesInYaml, shapedSecrets, unmaskText, unmaskYaml, type Masker } from "./mask-secrets.js";

export interface SecretBearingSettings {
  extraAnsibleVars: string;
  bootstrapCommand: string;
}

/** Values under secret keys in the extra variables, and the token-shaped values of the bootstrap command. */
export function settingSecrets(s: SecretBearingSettings): string[] {
  return [...secretValuesInYaml(s.extraAnsibleVars), ...shapedSecrets(s.bootstrapCommand)];
}

/** An appserver's: the merged playbook variables (the generated basic-auth password among them) and its bootstrap command's. */
export function snapshotSecrets(snapshot: { variables?: unknown; playbook?: { bootstrapCommand?: string } | null }): string[] {
  return [...secretValuesIn(snapshot.variables ?? {}), ...shapedSecrets(snapshot.playbook?.bootstrapCommand ?? "")];
}

export interface MaskedSettings {
  /** Null when the YAML does not parse: then it is not shown at all (it may hold secrets). */
  extraVariables: string | null;
  bootstrapCommand: string;
}

// The instance page and the API show this on every view, and parsing the YAML was ~5% of the
// page's CPU under load (bench/pages): the last results are kept, keyed by the texts themselves.
const kept = new Map<string, MaskedSettings>();
const MAX_KEPT = 200; // at most ~26 MB, at the 64 KB limit of the YAML

export function maskedSettings(s: SecretBearingSettings): MaskedSettings {
  const key = `${s.bootstrapCommand}\0${s.extraAnsibleVars}`;
  const hit = kept.get(key);
  if (hit) return hit;
  const mask = settingsMasker(s);
  const result = { extraVariables: maskYaml(s.extraAnsibleVars, mask), bootstrapCommand: mask(s.bootstrapCommand) };
  if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(key, result);
  return result;
}

function settingsMasker(s: SecretBearingSettings): Masker {
  return createMasker(settingSecrets(s));
}

/**
 * Settings edited from their masked form (the admin form shows them masked), with the stored secrets
 * put back where the text still shows them masked. Field errors when a mask has nothing to stand for.
 */
export function unmaskSettings(edited: Record<string, unknown>, stored: SecretBearingSettings): { values: Record<string, unknown>; errors: Record<string, string> } {
  const mask = settingsMasker(stored);
  const shown = maskedSettings(stored);
  const untouched = { extraAnsibleVars: shown.extraVariables, bootstrapCommand: shown.bootstrapCommand };
  const values = { ...edited };
  const errors: Record<string, string> = {};
  const put = (field: keyof SecretBearingSettings, back: (text: string) => ReturnType<typeof unmaskText>) => {
    const text = edited[field];
    if (typeof text !== "string") return;
    // Sent back as shown (a browser's textarea sends CRLF): the stored text, its layout untouched.
    const result = text.replace(/\r\n/g, "\n") === untouched[field] ? { ok: true as const, text: stored[field] } : back(text);
    if (result.ok) values[field] = result.text;
    else errors[field] = result.message;
  };
  put("extraAnsibleVars", (text) => unmaskYaml(text, stored.extraAnsibleVars, mask));
  put("bootstrapCommand", (text) => unmaskText(text, stored.bootstrapCommand, mask));
  return { values, errors };
}
