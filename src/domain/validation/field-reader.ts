// Reads a plain input object (a submitted form, or an object built by the CLI) field by field and
// collects one message per field. Values arrive as `unknown`: a form gives strings (or a list when
// a name is repeated), other callers may give numbers and booleans, so each reader checks the type.
import type { FieldErrors } from "../../errors.js";

export type Input = Record<string, unknown>;

/**
 * PostgreSQL cannot store U+0000 in text and answers with an error, so a NUL byte is refused where
 * input enters (forms here, query parameters in the web layer) with a message, never left to the database.
 */
export function hasNul(value: string): boolean {
  return value.includes("\u0000");
}

export const NUL_FIELD_MESSAGE = "Remove the NUL character (\\0): it cannot be stored.";

export interface TextRule {
  required?: boolean;
  max: number;
  lower?: boolean;
}

export class FieldReader {
  readonly errors: FieldErrors = {};

  constructor(private readonly input: Input, known: readonly string[]) {
    const allowed = new Set(known);
    for (const key of Object.keys(input)) {
      if (!allowed.has(key)) this.errors[key] = `Unknown field "${key}".`;
    }
  }

  /** Records a message for a field unless it already has one (the first problem is the one to fix). */
  fail(name: string, message: string): void {
    this.errors[name] ??= message;
  }

  hasError(name: string): boolean {
    return name in this.errors;
  }

  get ok(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  /** Trimmed text, "" when absent or invalid (with a message recorded). */
  text(name: string, rule: TextRule): string {
    const raw = this.input[name];
    if (raw === undefined || raw === null) return this.requiredOr(name, rule, "");
    if (typeof raw !== "string") {
      this.fail(name, Array.isArray(raw) ? "Enter a single value, not a list." : "Enter text.");
      return "";
    }
    if (!this.storable(name, raw)) return "";
    const value = rule.lower ? raw.trim().toLowerCase() : raw.trim();
    if (!value) return this.requiredOr(name, rule, "");
    if (value.length > rule.max) {
      this.fail(name, `Enter at most ${rule.max} characters (this has ${value.length}).`);
      return "";
    }
    return value;
  }

  /** Multi-line text kept as written apart from line endings (YAML, commands): not trimmed inside. */
  block(name: string, max: number): string {
    const raw = this.input[name];
    if (raw === undefined || raw === null) return "";
    if (typeof raw !== "string") {
      this.fail(name, "Enter text.");
      return "";
    }
    if (!this.storable(name, raw)) return "";
    const value = raw.replace(/\r\n?/g, "\n");
    if (value.length > max) {
      this.fail(name, `Enter at most ${max} characters (this has ${value.length}).`);
      return "";
    }
    return value.trim() ? value.replace(/\s+$/, "") + "\n" : "";
  }

  /** A list of lines: a string (one item per line) or an array of strings; blank lines dropped. */
  lines(name: string, rule: { maxItems: number; maxLength: number; lower?: boolean }): string[] {
    const raw = this.input[name];
    if (raw === undefined || raw === null) return [];
    const items = typeof raw === "string" ? raw.split(/\r?\n|\r/) : raw;
    if (!Array.isArray(items) || items.some((i) => typeof i !== "string")) {
      this.fail(name, "Enter text, one item per line.");
      return [];
    }
    if ((items as string[]).some((i) => !this.storable(name, i))) return [];
    const values = (items as string[]).map((i) => (rule.lower ? i.trim().toLowerCase() : i.trim())).filter(Boolean);
    if (values.length > rule.maxItems) this.fail(name, `Enter at most ${rule.maxItems} lines (this has ${values.length}).`);
    const long = values.find((v) => v.length > rule.maxLength);
    if (long) this.fail(name, `Each line may have at most ${rule.maxLength} characters; "${long.slice(0, 40)}…" is longer.`);
    return this.hasError(name) ? [] : values;
  }

  /**
   * An integer from a number or a string of digits; `fallback` when absent or blank. `ifLeftOut`
   * only when the field is not sent at all: sent blank, it is required.
   */
  int(name: string, rule: { min: number; max: number; fallback?: number | null; ifLeftOut?: number }): number | null {
    const raw = this.input[name];
    if (raw === undefined && rule.ifLeftOut !== undefined) return rule.ifLeftOut;
    const blank = raw === undefined || raw === null || (typeof raw === "string" && raw.trim() === "");
    if (blank) {
      if (rule.fallback === undefined) this.fail(name, "This field is required.");
      return rule.fallback ?? null;
    }
    const n = typeof raw === "number" ? raw : typeof raw === "string" && /^-?\d{1,12}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isInteger(n) || n < rule.min || n > rule.max) {
      this.fail(name, `Enter a whole number from ${rule.min} to ${rule.max}.`);
      return null;
    }
    return n;
  }

  /** A checkbox: true/false, or the strings a form or a command line sends. Absent means false. */
  bool(name: string): boolean {
    const raw = this.input[name];
    if (raw === undefined || raw === null || raw === false || raw === true) return raw === true;
    if (typeof raw === "string") {
      const v = raw.trim().toLowerCase();
      if (["true", "on", "yes", "1"].includes(v)) return true;
      if (["false", "off", "no", "0", ""].includes(v)) return false;
    }
    this.fail(name, "Expected yes or no.");
    return false;
  }

  /** One of a fixed set of values; `fallback` when absent or blank. */
  choice<T extends string>(name: string, values: readonly T[], fallback?: T | null): T | null {
    const value = this.text(name, { max: 100, required: fallback === undefined });
    if (!value) return fallback ?? null;
    if (!(values as readonly string[]).includes(value)) {
      this.fail(name, `Choose one of: ${values.join(", ")}.`);
      return null;
    }
    return value as T;
  }

  private storable(name: string, value: string): boolean {
    if (!hasNul(value)) return true;
    this.fail(name, NUL_FIELD_MESSAGE);
    return false;
  }

  private requiredOr(name: string, rule: TextRule, value: string): string {
    if (rule.required) this.fail(name, "This field is required.");
    return value;
  }
}
