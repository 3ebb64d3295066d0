// What a launch would change against an appserver that is already serving: the merged variables
// compared name by name. Nested mappings (TUTOR_CONFIG, EDXAPP_…_FEATURES) are compared per key,
// named by their path ("TUTOR_CONFIG.PLATFORM_NAME"), so one changed setting is one line, not the
// whole mapping; lists and scalars are compared whole.
import { isMapping } from "../provisioning/variables.js";

export interface VariableEntry {
  name: string;
  /** As shown: masked (the caller gives the masked trees). */
  value: unknown;
}

export interface ChangedVariable {
  name: string;
  before: unknown;
  after: unknown;
}

export interface VariablesDiff {
  added: VariableEntry[];
  removed: VariableEntry[];
  changed: ChangedVariable[];
}

/** Every leaf of a variables tree by its dotted path; an empty mapping is a leaf of its own. */
export function flattenVariables(tree: Record<string, unknown>, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(tree)) {
    const name = prefix + key;
    if (isMapping(value) && Object.keys(value).length) for (const [k, v] of flattenVariables(value, `${name}.`)) out.set(k, v);
    else out.set(name, value);
  }
  return out;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * `before`/`after`: the real trees (compared); `shownBefore`/`shownAfter`: the same trees masked
 * (what the entries carry). A secret that changed shows as `changedMark` after, since both sides
 * mask to the same text. Names sorted, as the variables are shown.
 */
export function diffVariables(
  trees: { before: Record<string, unknown>; after: Record<string, unknown>; shownBefore: Record<string, unknown>; shownAfter: Record<string, unknown> },
  changedMark: string,
): VariablesDiff {
  const [before, after, shownBefore, shownAfter] = [trees.before, trees.after, trees.shownBefore, trees.shownAfter].map((t) => flattenVariables(t));
  const names = [...new Set([...before!.keys(), ...after!.keys()])].sort();
  const diff: VariablesDiff = { added: [], removed: [], changed: [] };
  for (const name of names) {
    if (!before!.has(name)) diff.added.push({ name, value: shownAfter!.get(name) });
    else if (!after!.has(name)) diff.removed.push({ name, value: shownBefore!.get(name) });
    else if (!same(before!.get(name), after!.get(name))) {
      const [was, now] = [shownBefore!.get(name), shownAfter!.get(name)];
      diff.changed.push({ name, before: was, after: same(was, now) ? changedMark : now });
    }
  }
  return diff;
}
