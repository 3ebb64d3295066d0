// Zod's issues about a JSON object an admin typed (a provider account's settings or credentials),
// as one sentence that names each bad key. Values are never quoted: credentials pass through here.
import type { z } from "zod";

const TYPE_NAMES: Record<string, string> = {
  string: "text (in quotes)",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "an object",
};

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
}

function describeIssue(raw: unknown, issue: z.ZodIssue): string {
  const name = `"${issue.path.map(String).join(".")}"`;
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => `unknown key "${k}"`).join("; ");
    case "invalid_type":
      if (valueAt(raw, issue.path) === undefined) return `${name} is missing`;
      return `${name} must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `${name} must be one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return issue.origin === "string" ? `${name} must not be empty` : `${name} must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `${name} must be at most ${String(issue.maximum)}`;
    default:
      // Our schemas' own messages are noun phrases ("an http(s) URL"); Zod's own are sentences.
      return /^[a-z]/.test(issue.message) ? `${name} must be ${issue.message}` : `${name}: ${issue.message}`;
  }
}

/** "\"authUrl\" must be an http(s) URL; \"flavorRef\" is missing" for the issues of parsing `raw`. */
export function describeSchemaIssues(raw: unknown, issues: z.ZodIssue[]): string {
  return issues.map((i) => describeIssue(raw, i)).join("; ");
}
