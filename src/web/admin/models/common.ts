// Small pieces the model descriptions share.
import type { Filter } from "../types.js";

/** "1 appserver", "1,234 log entries". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

export function yesNoFilter(key: string, label: string, where: (value: boolean) => object): Filter {
  return {
    key,
    label,
    options: () => [{ value: "yes", label: "Yes" }, { value: "no", label: "No" }],
    where: (v) => where(v === "yes"),
  };
}

export function choiceFilter(key: string, label: string, field: string, values: readonly string[]): Filter {
  return { key, label, options: () => values.map((v) => ({ value: v, label: v })), where: (v) => ({ [field]: v }) };
}

/** What a save returns to the engine: the id, and the name to show in messages. */
export function titled(row: { id: number; name: string }): { id: number; title: string } {
  return { id: row.id, title: row.name };
}
