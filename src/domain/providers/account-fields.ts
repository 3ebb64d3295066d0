// A provider account as form fields: one field per OpenStack setting and per credential, read back
// into the stored shape (the settings JSON object and the credentials JSON object, encrypted) that
// the adapter reads (src/adapters/provider/openstack-settings.ts). Used by the admin form and by
// the fleet import, so both are checked the same way, each message next to its field.
import { openstackCredentialsSchema, openstackSettingsSchema } from "../../adapters/provider/openstack-settings.js";
import { issuesByKey } from "../../schema-issues.js";
import type { FieldReader } from "../validation/field-reader.js";

/** Settings typed as one line of text each. */
export const TEXT_SETTINGS = [
  "authUrl", "region", "projectName", "projectDomainName", "projectId", "userDomainName",
  "flavorRef", "imageRef", "keyName", "floatingNetwork", "sshUser", "workDir", "computeInterface",
] as const;
/** Settings typed one item per line. */
export const LIST_SETTINGS = ["networks", "securityGroups"] as const;
export const NUMBER_SETTINGS = ["sshPort", "deleteTimeoutSeconds"] as const;
export const SETTING_FIELDS = [...TEXT_SETTINGS, ...LIST_SETTINGS, ...NUMBER_SETTINGS] as const;

export const AUTH_METHODS = ["password", "application_credential"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
const AUTH_KEYS: Record<AuthMethod, readonly string[]> = {
  password: ["username", "password"],
  application_credential: ["applicationCredentialId", "applicationCredentialSecret"],
};
export const AUTH_LABELS: Record<AuthMethod, string> = {
  password: "a user name and password",
  application_credential: "an application credential",
};
export const CREDENTIAL_FIELDS = ["username", "password", "applicationCredentialId", "applicationCredentialSecret", "sshPrivateKey"] as const;
/** How each credential is named on the page that says which are set. */
export const CREDENTIAL_LABELS: Record<(typeof CREDENTIAL_FIELDS)[number], string> = {
  username: "user name",
  password: "password",
  applicationCredentialId: "application credential id",
  applicationCredentialSecret: "application credential secret",
  sshPrivateKey: "SSH private key",
};

const PROJECT_NEEDED = "Required for a user name and password: the project's name (with its domain unless it is Default), or its id below. An application credential brings its own project.";
const KEY_NEEDED = "Required: the private half of the key pair named in \"Key pair\", to log in to the VMs.";
const DEFAULT_INTERFACE = "public";

/** The stored settings as form values (lists one item per line); `networkIds`, the older key, joins `networks`. */
export function settingsToValues(settings: unknown): Record<string, string> {
  const s = settings && typeof settings === "object" && !Array.isArray(settings) ? { ...(settings as Record<string, unknown>) } : {};
  const legacy = Array.isArray(s.networkIds) ? s.networkIds : [];
  if (legacy.length) s.networks = [...(Array.isArray(s.networks) ? s.networks : []), ...legacy];
  delete s.networkIds;
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Array.isArray(v) ? v.map(String).join("\n") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v ?? "")]));
}

/** Which way the stored credentials sign in (an application credential when they hold one). */
export function storedAuthMethod(stored: Record<string, unknown> | null): AuthMethod {
  return stored?.applicationCredentialId ? "application_credential" : "password";
}

/**
 * The settings object from the fields: blank fields are left out (the adapter's defaults apply),
 * numbers become numbers, lists lists. Each value the adapter's schema refuses fails its own field.
 */
export function readOpenstackSettings(r: FieldReader): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const key of TEXT_SETTINGS) {
    const value = r.text(key, { max: 500 });
    if (value && !(key === "computeInterface" && value === DEFAULT_INTERFACE)) settings[key] = value;
  }
  for (const key of LIST_SETTINGS) {
    const items = r.lines(key, { maxItems: 20, maxLength: 255 });
    if (items.length) settings[key] = items;
  }
  for (const key of NUMBER_SETTINGS) {
    const text = r.text(key, { max: 20 });
    if (!text) continue;
    if (/^-?\d{1,9}$/.test(text)) settings[key] = Number(text);
    else r.fail(key, "Enter a whole number.");
  }
  const parsed = openstackSettingsSchema.strict().safeParse(settings);
  if (!parsed.success) for (const [key, message] of Object.entries(issuesByKey(settings, parsed.error.issues))) r.fail(key, message);
  return settings;
}

/**
 * The credentials object from the fields, each blank one keeping its stored value. Only the chosen
 * sign-in method's keys are kept (switching drops the other's); a value typed for the other method
 * is refused rather than dropped. `changed` says whether anything differs from what is stored.
 */
export function readOpenstackCredentials(r: FieldReader, method: AuthMethod, settings: Record<string, unknown>, stored: Record<string, unknown> | null): { credentials: Record<string, string>; changed: boolean } {
  const typed: Record<string, string> = {};
  for (const key of CREDENTIAL_FIELDS) {
    const value = key === "sshPrivateKey" ? r.block(key, 16_000) : r.text(key, { max: 2_000 });
    if (value) typed[key] = value;
  }
  const other = method === "password" ? "application_credential" : "password";
  for (const key of AUTH_KEYS[other]) {
    if (typed[key]) r.fail(key, `Leave this blank: the account signs in with ${AUTH_LABELS[method]}. Choose ${AUTH_LABELS[other]} under "Sign in with" to use it.`);
  }
  const credentials: Record<string, string> = {};
  for (const key of [...AUTH_KEYS[method], "sshPrivateKey"]) {
    const value = typed[key] ?? (typeof stored?.[key] === "string" ? (stored[key] as string) : "");
    if (value) credentials[key] = value;
    else r.fail(key, key === "sshPrivateKey" ? KEY_NEEDED : `Required to sign in with ${AUTH_LABELS[method]}.`);
  }
  if (method === "password" && !settings.projectName && !settings.projectId) r.fail("projectName", PROJECT_NEEDED);
  const parsed = openstackCredentialsSchema.safeParse(credentials);
  // Messages name what is wrong, never the value: these are secrets.
  // Only on what was given: what is missing is told above, by the chosen way of signing in. The
  // schema's own "or applicationCredentialId … instead" on the user name of an application-credential
  // account said the opposite of the field beside it.
  if (!parsed.success) {
    for (const [key, message] of Object.entries(issuesByKey(credentials, parsed.error.issues))) if (credentials[key]) r.fail(key, message);
  }
  const storedKeys = Object.keys(stored ?? {}).filter((k) => stored?.[k]);
  const changed = storedKeys.length !== Object.keys(credentials).length || Object.entries(credentials).some(([k, v]) => stored?.[k] !== v);
  return { credentials, changed };
}
