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

/** What is wrong with the value at the issue's path, without naming it ("must be a number"). */
function issueText(raw: unknown, issue: z.ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      if (valueAt(raw, issue.path) === undefined) return "is missing";
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `must be one of: ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return issue.origin === "string" ? "must not be empty" : `must be at least ${String(issue.minimum)}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}`;
    default:
      // Our schemas' own messages are noun phrases ("an http(s) URL"); Zod's own are sentences.
      return /^[a-z]/.test(issue.message) ? `must be ${issue.message}` : issue.message;
  }
}

function describeIssue(raw: unknown, issue: z.ZodIssue): string {
  if (issue.code === "unrecognized_keys") return issue.keys.map((k) => `unknown key "${k}"`).join("; ");
  const name = `"${issue.path.map(String).join(".")}"`;
  const text = issueText(raw, issue);
  return /^(is|must) /.test(text) ? `${name} ${text}` : `${name}: ${text}`;
}

/**
 * One message per top-level key, for a form that has a field per key ("Must be a number."); the
 * first issue of a key wins. Unknown keys are left out: a form's fields are its keys.
 */
export function issuesByKey(raw: unknown, issues: z.ZodIssue[]): Record<string, string> {
  const byKey: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path[0];
    if (issue.code === "unrecognized_keys" || key === undefined) continue;
    const text = issueText(raw, issue);
    if (text === "is missing") {
      byKey[String(key)] ??= "This field is required.";
      continue;
    }
    byKey[String(key)] ??= `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
  }
  return byKey;
}

/** "\"authUrl\" must be an http(s) URL; \"flavorRef\" is missing" for the issues of parsing `raw`. */
export function describeSchemaIssues(raw: unknown, issues: z.ZodIssue[]): string {
  return issues.map((i) => describeIssue(raw, i)).join("; ");
}
