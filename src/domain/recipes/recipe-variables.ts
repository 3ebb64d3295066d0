// What each recipe's playbook reads of the extra variables, checked at save (docs/recipes.md). The
// tutor recipe runs Ocim's own playbook (playbooks/tutor/), which reads TUTOR_CONFIG (Tutor's
// settings, written to config.yml) and Ocim's OCIM_* variables, nothing else: a Tutor setting or an
// openedx/configuration variable at the top level would be saved and do nothing, and a TUTOR_CONFIG
// that is not a mapping would replace every setting Ocim generates (hosts, secrets, databases).
// The native recipe's openedx/configuration has no TUTOR_CONFIG. The names come from the data files
// of the real projects (data/tutor-config-keys.tsv, data/openedx-configuration-vars.tsv).
import { readFileSync } from "node:fs";
import { isAlias, isMap, isScalar, isSeq, type Node } from "yaml";
import { lineOf, parseAnsibleDocument } from "../provisioning/ansible-yaml.js";
import { TUTOR_PLAYBOOK_VARIABLES } from "./tutor.js";
import type { Recipe } from "./recipe.js";

/** The first column of one of the data files (comments and a header line left out). */
function namesIn(file: string): ReadonlySet<string> {
  const text = readFileSync(new URL(`../../../data/${file}`, import.meta.url), "utf8");
  return new Set(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t")[0]!).filter((n) => /^[A-Z][A-Z0-9_]*$/.test(n)));
}

let known: { tutor: ReadonlySet<string>; configuration: ReadonlySet<string> } | null = null;
function knownNames() {
  known ??= { tutor: namesIn("tutor-config-keys.tsv"), configuration: namesIn("openedx-configuration-vars.tsv") };
  return known;
}

/** The tutor playbook's list-valued variables: anything else in their place breaks its loops. */
const TUTOR_LISTS = new Set(["OCIM_TUTOR_PLUGINS", "OCIM_TUTOR_PIP_PLUGINS", "OCIM_SSH_USERS"]);

function kindOf(node: unknown): "mapping" | "list" | "value" {
  return isMap(node) ? "mapping" : isSeq(node) ? "list" : "value";
}

/**
 * Why these extra variables (valid YAML, a mapping: checkExtraVariables) cannot work with the
 * recipe, or null. ansible's own variables (ansible_…) are read by every recipe.
 */
export function checkRecipeVariables(text: string, recipe: Recipe): string | null {
  if (recipe === "custom" || !text.trim()) return null;
  const doc = parseAnsibleDocument(text);
  const root = doc.contents;
  if (!isMap(root)) return null;
  for (const pair of root.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== "string") continue;
    const name = pair.key.value;
    const line = pair.key.range ? ` (line ${lineOf(text, pair.key.range[0])})` : "";
    // An alias (*name) stands for the node it names.
    const value = isAlias(pair.value) ? (pair.value.resolve(doc) ?? null) : (pair.value as Node | null);
    const problem = recipe === "tutor" ? tutorProblem(name, value) : nativeProblem(name);
    if (problem) return `${name}${line} ${problem}`;
  }
  return null;
}

function tutorProblem(name: string, value: Node | null): string | null {
  if (name.startsWith("ansible_")) return null;
  if (name === "TUTOR_CONFIG") {
    return kindOf(value) === "mapping" ? null
      : `must be a mapping of Tutor settings (such as TUTOR_CONFIG: { LANGUAGE_CODE: fr }), not a ${kindOf(value) === "list" ? "list" : "single value"}: ` +
        "it would replace every setting Ocim writes there (hosts, the instance's secrets and databases).";
  }
  if (TUTOR_LISTS.has(name) && kindOf(value) !== "list") return `must be a list, as Ocim generates it: the tutor playbook loops over it.`;
  if (TUTOR_PLAYBOOK_VARIABLES.includes(name)) return null;
  const { tutor, configuration } = knownNames();
  if (tutor.has(name)) return `is a Tutor setting: the tutor recipe takes Tutor's settings inside TUTOR_CONFIG, indented on the lines under "TUTOR_CONFIG:" or as TUTOR_CONFIG: { ${name}: … }.`;
  const whose = configuration.has(name) ? "is an openedx/configuration variable, which the tutor recipe does not read" : "is not read by the tutor recipe";
  return `${whose}: its playbook reads TUTOR_CONFIG (Tutor's settings) and Ocim's own OCIM_TUTOR_… variables only. ` +
    "Put a Tutor setting under TUTOR_CONFIG, or choose the native or custom recipe for openedx/configuration variables.";
}

function nativeProblem(name: string): string | null {
  if (name !== "TUTOR_CONFIG") return null;
  return "is read by the tutor recipe only; this instance uses openedx/configuration (native), whose variables go at the top level.";
}
