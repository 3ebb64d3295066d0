// A JSON object typed into an admin form (an account's settings or credentials) and its check
// against the adapter's schema, so a wrong account fails at save, not on a page later. Messages
// name keys, never values: credentials pass through here.
import type { z } from "zod";
import { describeSchemaIssues } from "../../schema-issues.js";
import type { FieldReader } from "./field-reader.js";

/** A JSON object, or a message saying why the text is not one. */
export function parseJsonObject(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}.` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: `Must be a JSON object ({"key": "value", …}), not ${Array.isArray(value) ? "a list" : "a single value"}.` };
  }
  return { value: value as Record<string, unknown> };
}

/** The keys a schema cannot do without (no default, not optional), for the message that lists them. */
export function requiredKeys(schema: z.ZodObject): string[] {
  return Object.entries(schema.shape).filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success).map(([key]) => key);
}

/** Fails `field` with the schema's issues ("Not valid for <label>: …. Required keys: …."); the parsed value when it fits. */
export function checkShape<T extends z.ZodObject>(r: FieldReader, field: string, schema: T, value: Record<string, unknown>, label: string): z.infer<T> | null {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const required = requiredKeys(schema);
  r.fail(field, `Not valid for ${label}: ${describeSchemaIssues(value, parsed.error.issues)}.${required.length ? ` Required keys: ${required.join(", ")}.` : ""}`);
  return null;
}

/** The credentials' own parse error could quote the secret back: say only where it went wrong. */
export const CREDENTIALS_NOT_JSON = "Not a valid JSON object. Enter the credentials as JSON, like {\"username\": \"…\", \"password\": \"…\"}.";
