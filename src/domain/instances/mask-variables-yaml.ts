// The console and the API show an instance's extra ansible variables to every operator, but the
// YAML may hold credentials (SMTP passwords, API keys): their values are masked, comments and
// layout kept. Admins see the text as typed in the admin form.
import { isScalar, parseDocument, visit } from "yaml";
import { SECRET_VARIABLE_RE } from "../provisioning/variables.js";

/** Keys whose values are secrets. Same rule as the playbook variables masking (DESIGN §5). */
const MASK = "••••••";

// The instance page shows this on every view, and parsing the YAML was ~5% of its CPU under load
// (bench/pages): the last results are kept, keyed by the text itself.
const masked = new Map<string, string | null>();
const MAX_KEPT = 200; // at most ~26 MB, at the 64 KB limit of the text

/** The YAML with secret values masked, or null when it does not parse (then nothing is shown). */
export function maskVariablesYaml(yaml: string): string | null {
  if (!yaml.trim()) return "";
  if (masked.has(yaml)) return masked.get(yaml)!;
  const result = maskYaml(yaml);
  if (masked.size >= MAX_KEPT) masked.delete(masked.keys().next().value!);
  masked.set(yaml, result);
  return result;
}

function maskYaml(yaml: string): string | null {
  const doc = parseDocument(yaml);
  if (doc.errors.length) return null;
  visit(doc, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || !SECRET_VARIABLE_RE.test(String(pair.key.value)) || pair.value == null) return;
      if (isScalar(pair.value)) {
        if (pair.value.value === "" || pair.value.value === null) return;
        pair.value.value = MASK;
        pair.value.type = "PLAIN";
      } else {
        pair.value = doc.createNode(MASK);
      }
    },
  });
  return doc.toString();
}
