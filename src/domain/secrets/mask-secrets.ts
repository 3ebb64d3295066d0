// Which values of a variables tree or YAML text are secret, and those texts masked
// (docs/security.md, "What is secret, and where it is masked"). Secrecy is decided on the *values*:
// every value under a secret key at any depth (secret-keys.ts), the values Ocim generates (the
// basic-auth password), and values of a known shape (URL credentials, Authorization headers,
// `token=…`, GitHub/GitLab/AWS tokens). Those values are then masked by the one masker
// (src/mask-text.ts) wherever they appear: in a log line, a YAML text, a bootstrap command, an audit diff.
import { isMap, isScalar, isSeq, parseDocument, visit, type Node } from "yaml";
import { CHANGED, MASK, escapeRegExp, type Masker, type MaskerOptions } from "../../mask-text.js";
import { isSecretKey } from "./secret-keys.js";

// The domain's callers take the masker from here, with the rest of what decides and masks secrets.
export { CHANGED, MASK, createMasker, shapedSecrets, type Masker, type MaskerOptions } from "../../mask-text.js";

/** Values that are flags, not secrets, even when a secret key holds them as strings. */
const NOT_A_SECRET = /^(true|false|yes|no|on|off|none|null)$/i;

/** Whether a value under a secret key is masked: booleans, empty values and flags are not secrets. */
function isMaskableValue(value: unknown): boolean {
  if (typeof value === "number" || typeof value === "bigint") return true;
  return typeof value === "string" && value !== "" && !NOT_A_SECRET.test(value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The secret values of a variables tree, as text to look for: every leaf under a secret key, and
 * the forms a playbook may echo them in (the leaves of a JSON string such as a JWK, each line of a
 * multi-line key), so a log line that repeats one in part is masked too.
 */
export function secretValuesIn(tree: unknown, underSecret = false): string[] {
  if (Array.isArray(tree)) return tree.flatMap((v) => secretValuesIn(v, underSecret));
  if (isMapping(tree)) return Object.entries(tree).flatMap(([k, v]) => secretValuesIn(v, underSecret || isSecretKey(k)));
  if (!underSecret || !isMaskableValue(tree)) return [];
  const value = String(tree);
  return [value, ...jsonLeaves(value), ...value.split("\n").map((l) => l.trim()).filter((l) => l.length >= 8 && l !== value)];
}

function jsonLeaves(value: string): string[] {
  if (!/^\s*[[{]/.test(value)) return [];
  try {
    return secretValuesIn(JSON.parse(value) as unknown, true);
  } catch {
    return [];
  }
}

/** A copy of a variables tree with every value under a secret key replaced and known values masked in the rest. */
export function maskTree(tree: unknown, mask: Masker, underSecret = false): unknown {
  if (Array.isArray(tree)) return tree.map((v) => maskTree(v, mask, underSecret));
  if (isMapping(tree)) return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, maskTree(v, mask, underSecret || isSecretKey(k))]));
  if (underSecret) return isMaskableValue(tree) ? MASK : tree;
  return typeof tree === "string" ? mask(tree) : tree;
}

/** The secret values of a YAML text (none when it does not parse: such a text is never shown). */
export function secretValuesInYaml(text: string): string[] {
  return secretValuesIn(storedTree(text));
}

/**
 * The YAML with every scalar under a secret key masked (CHANGED when the masker knows the previous
 * secrets and this one is not among them) and known values masked in the other strings; comments
 * and layout kept. Null when the text does not parse (then it is not shown at all).
 */
export function maskYaml(text: string, mask: Masker, opts: MaskerOptions = {}): string | null {
  if (!text.trim()) return text;
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length) return null;
  const previous = opts.previous ? new Set(opts.previous) : null;
  const hide = (value: unknown) => (previous && !previous.has(String(value)) ? CHANGED : MASK);
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !isSecretKey(String(pair.key.value)) || pair.value == null) return;
      maskNode(pair.value as Node, hide);
      return visit.SKIP;
    },
    Scalar(_, node) {
      if (typeof node.value === "string") node.value = mask(node.value);
    },
  });
  return doc.toString();
}

function maskNode(node: Node, hide: (value: unknown) => string): void {
  if (isScalar(node)) {
    if (!isMaskableValue(node.value)) return;
    node.value = hide(node.value);
    node.type = "PLAIN";
  } else if (isMap(node)) {
    for (const item of node.items) if (item.value) maskNode(item.value as Node, hide);
  } else if (isSeq(node)) {
    for (const item of node.items) maskNode(item as Node, hide);
  }
}


/** The result of putting stored secrets back into a text edited from its masked form. */
export type Unmasked = { ok: true; text: string } | { ok: false; message: string };

const KEEP_HINT = `leave each ${MASK} as shown to keep its value, or type the new value over it`;

/**
 * A YAML text edited from its masked form (maskYaml with the same masker), each masked scalar given
 * back the stored value at the same place (key path and list index), so an admin can edit a masked
 * text without seeing its secrets. A MASK with no stored value at its place is refused.
 */
export function unmaskYaml(edited: string, stored: string, mask: Masker): Unmasked {
  if (!edited.includes(MASK)) return { ok: true, text: edited };
  const doc = parseDocument(edited, { uniqueKeys: false });
  if (doc.errors.length) return { ok: true, text: edited }; // the validation says what is wrong
  const missing: string[] = [];
  const walk = (node: unknown, was: unknown, at: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = String(isScalar(pair.key) ? pair.key.value : "?");
        walk(pair.value, isMapping(was) ? was[key] : undefined, at ? `${at}.${key}` : key);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, Array.isArray(was) ? was[i] : undefined, `${at}[${i}]`));
    } else if (isScalar(node) && typeof node.value === "string" && node.value.includes(MASK)) {
      const scalar = typeof was === "string" || typeof was === "number";
      const back = scalar && node.value !== MASK ? unmaskText(node.value, String(was), mask) : null;
      if (scalar && node.value === MASK) node.value = was;
      else if (back?.ok) node.value = back.text;
      else missing.push(at);
    }
  };
  walk(doc.contents, storedTree(stored), "");
  if (missing.length) return { ok: false, message: `${missing.join(", ")}: no saved value to keep there; ${KEEP_HINT}.` };
  return { ok: true, text: doc.toString() };
}

/** The YAML as plain data; null when it does not parse or passes the YAML library's alias limit (maskYaml still masks by key). */
function storedTree(text: string): unknown {
  if (!text.trim()) return null;
  const doc = parseDocument(text, { uniqueKeys: false });
  try {
    return doc.errors.length ? null : (doc.toJS() as unknown);
  } catch {
    return null;
  }
}

/** A text edited from its masked form (the same masker), each MASK given back the stored value it hid, in order. */
export function unmaskText(edited: string, stored: string, mask: Masker): Unmasked {
  if (!edited.includes(MASK)) return { ok: true, text: edited };
  const parts = mask(stored).split(MASK);
  const hidden = new RegExp(`^${parts.map(escapeRegExp).join("([\\s\\S]*?)")}$`).exec(stored)?.slice(1) ?? [];
  const pieces = edited.split(MASK);
  if (pieces.length !== parts.length || hidden.length !== parts.length - 1) {
    return { ok: false, message: `The masked values do not match the saved ones; ${KEEP_HINT}.` };
  }
  return { ok: true, text: pieces.reduce((text, piece, i) => text + hidden[i - 1]! + piece) };
}
