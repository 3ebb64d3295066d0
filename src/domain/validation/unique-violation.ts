// Turns a unique-constraint violation (Prisma P2002) into field errors, so a save that lost a race
// against another one shows the same message as a duplicate found before writing.
import { validationError, type FieldErrors } from "../../errors.js";

/** The columns of a violated unique constraint, or null when `err` is something else. */
export function uniqueViolationFields(err: unknown): string[] | null {
  const e = err as { code?: unknown; meta?: { target?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: unknown } } } } };
  if (e?.code !== "P2002") return null;
  // The native engine reports meta.target; driver adapters (adapter-pg) report the constraint's
  // fields with their SQL quotes.
  const raw = e.meta?.target ?? e.meta?.driverAdapterError?.cause?.constraint?.fields ?? [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((f) => String(f).replace(/^"|"$/g, ""));
}

/** Rethrows a P2002 on one of `messages`' fields as a validation error; anything else as it was. */
export function rethrowUniqueViolation(err: unknown, messages: Record<string, string>): never {
  const fields = uniqueViolationFields(err);
  if (fields) {
    const errors: FieldErrors = {};
    for (const f of fields) if (messages[f]) errors[f] = messages[f];
    if (Object.keys(errors).length) throw validationError(errors);
  }
  throw err;
}
