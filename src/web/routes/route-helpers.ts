// Request parsing shared by the routes: one zod schema per route, and
// bad input turned into an AppError whose message says what to change.
import type { Request } from "express";
import type { z } from "zod";
import { AppError, notFound, type FieldErrors } from "../../errors.js";
import { hasNul } from "../../domain/validation/field-reader.js";

const ID_RE = /^[1-9][0-9]{0,9}$/;
const MAX_ID = 2_147_483_647; // PostgreSQL integer

/** A database id from a path segment, or null when it cannot be one (letters, 0, too large). */
export function toId(value: unknown): number | null {
  if (typeof value !== "string" || !ID_RE.test(value)) return null;
  const id = Number(value);
  return id <= MAX_ID ? id : null;
}

/** The id of a page's subject; anything that cannot be an id is a page that does not exist. */
export function idOr404(value: unknown, what: string): number {
  const id = toId(value);
  if (id === null) throw notFound(what);
  return id;
}

/** The id in an API path (`:id`); anything that cannot be an id is a 400 naming what it should be. */
export function pathId(req: Request, what: string): number {
  const id = toId(req.params.id);
  if (id === null) throw new AppError("validation", `The ${what} id must be a positive integer.`, { fields: { id: "a positive integer" } });
  return id;
}

/** Parses query parameters with the route's schema; a 400 naming each bad parameter otherwise. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const fields: FieldErrors = {};
  for (const [key, value] of Object.entries(query ?? {})) {
    if ([value].flat().some((v) => typeof v === "string" && hasNul(v))) fields[key] = "contains a NUL character (\\0)";
  }
  const parsed = schema.safeParse(query);
  if (parsed.success && Object.keys(fields).length === 0) return parsed.data;
  for (const issue of parsed.error?.issues ?? []) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) fields[key] = "unknown query parameter";
    } else {
      fields[String(issue.path[0] ?? "query")] ??= issue.message;
    }
  }
  const message = Object.entries(fields).map(([field, problem]) => `${field}: ${problem}`).join("; ");
  throw new AppError("validation", `Invalid query parameters. ${message}.`, { fields });
}
