// An account's stored credentials, decrypted, for the code that merges a form into them and the page
// that says which are set. Null when there are none or they cannot be read (SECRET_KEY changed):
// the form then asks for every credential again instead of failing.
import type { Secrets } from "../../crypto.js";
import { CREDENTIAL_FIELDS, CREDENTIAL_LABELS, storedAuthMethod, type AuthMethod } from "./account-fields.js";

export function readStoredCredentials(secrets: Pick<Secrets, "decrypt">, sealed: string): Record<string, unknown> | null {
  if (!sealed) return null;
  try {
    const value: unknown = JSON.parse(secrets.decrypt(sealed));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null; // neither error is passed on: JSON.parse quotes its input
  }
}

/** Which credentials are stored, by name only ("user name, password, SSH private key"), and the sign-in method they make. */
export function describeStoredCredentials(secrets: Pick<Secrets, "decrypt">, sealed: string): { auth: AuthMethod; summary: string } {
  const stored = readStoredCredentials(secrets, sealed);
  const set = CREDENTIAL_FIELDS.filter((k) => typeof stored?.[k] === "string" && stored[k]);
  const summary = !sealed ? "none stored" : !stored ? "stored, but they cannot be read (SECRET_KEY changed since they were saved): enter them again" : set.length ? `set (encrypted): ${set.map((k) => CREDENTIAL_LABELS[k]).join(", ")}` : "none stored";
  return { auth: storedAuthMethod(stored), summary };
}
