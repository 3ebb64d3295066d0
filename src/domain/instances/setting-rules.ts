// Checks for the instance settings that end up on a VM's command line or in the playbook run:
// repository URLs, branches, the playbook path, the extra variables. Each returns a message for
// the field, or null when the value is fine. The rules are allow-lists, so no value can carry shell
// syntax ($ ` ; | & < > \ quotes, spaces, line breaks) or look like a command-line option ("-…").
import { isMap, isScalar, isSeq, type YAMLWarning } from "yaml";
import { lineOf, parseAnsibleDocument } from "../provisioning/ansible-yaml.js";
import { MAX_VARIABLES_JSON_BYTES, oversizeVariables } from "../provisioning/variables.js";
import { parsePluginEntry } from "../recipes/tutor.js";
import { OCIM_OWNED_VARIABLES, ownedVariableReason } from "../recipes/recipe.js";

const REF_CHAR = /[A-Za-z0-9._/+@-]/;

function describeChar(c: string): string {
  if (c === " ") return "a space";
  if (c === "\n" || c === "\r") return "a line break";
  if (c === "\t") return "a tab";
  return `"${c}"`;
}

/** A branch, tag or commit, by git check-ref-format's rules plus a character allow-list. */
export function checkGitRef(ref: string): string | null {
  if (ref.startsWith("-")) return 'A branch name must not start with "-".';
  const bad = [...ref].find((c) => !REF_CHAR.test(c));
  if (bad) return `Contains ${describeChar(bad)}: a branch, tag or commit may use only letters, digits and . _ / + - @ (no spaces or shell characters).`;
  if (ref.startsWith("/") || ref.endsWith("/") || ref.includes("//")) return 'Must not start or end with "/" or contain "//".';
  if (ref.includes("..")) return 'Must not contain "..".';
  if (ref.endsWith(".")) return 'Must not end with ".".';
  if (ref === "@" || ref.includes("@{")) return 'Must not be "@" or contain "@{".';
  if (ref.split("/").some((part) => part.startsWith(".") || part.endsWith(".lock"))) {
    return 'No part between slashes may start with "." or end with ".lock".';
  }
  return null;
}

const HTTPS_URL = /^https:\/\/[A-Za-z0-9][A-Za-z0-9.-]*(?::\d{1,5})?(?:\/[A-Za-z0-9._~%+/-]*)?$/;
// scp-like syntax; the host and the path may not start with "-", so neither can pass for an ssh option.
const SCP_URL = /^git@[A-Za-z0-9][A-Za-z0-9.-]*:[A-Za-z0-9._~+/][A-Za-z0-9._~+/-]*$/;
const FILE_URL = /^file:\/\/\/[A-Za-z0-9._~+/-]+$/;

export function checkRepoUrl(url: string): string | null {
  if (HTTPS_URL.test(url) || SCP_URL.test(url) || FILE_URL.test(url)) return null;
  if (url.startsWith("http://")) return "Use https:// (plain http:// is not allowed).";
  const bad = [...url].find((c) => /[\s$`;|&<>\\'"(){}*?!#^[\]]/.test(c));
  if (bad) return `Contains ${describeChar(bad)}: repository URLs may not contain spaces or shell characters.`;
  return "Enter a repository URL of the form https://host/path, git@host:path or file:///path.";
}

/** A playbook inside the configuration repository: relative, no "..", a .yml or .yaml file. */
export function checkPlaybookPath(path: string): string | null {
  if (path.startsWith("/")) return "Enter a path relative to the configuration repository (no leading /).";
  if (path.split("/").includes("..")) return 'The path must stay inside the repository (no "..").';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._/-]*$/.test(path)) {
    return "Use only letters, digits and . _ / - (no spaces or shell characters; not starting with - or .).";
  }
  if (path.includes("//") || path.endsWith("/")) return 'Use one / between folders, as in playbooks/site.yml.';
  if (!/\.ya?ml$/.test(path)) return "A playbook is a .yml or .yaml file.";
  return null;
}

// A pip project name (PEP 508: letters, digits, . _ -, starting and ending with a letter or digit),
// which is also the shape of a Tutor plugin's own name ("mfe", "tutor-mfe", "tutor_indigo").
const PLUGIN_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
// What pip takes as one requirement (a name with extras and versions, or a VCS URL: PEP 508/440),
// starting with a letter or digit so it never reads as an option; no spaces, quotes or shell syntax.
const PIP_REQUIREMENT = /^[A-Za-z0-9][A-Za-z0-9._\-[\]<>=!~,+:/@#%]*$/;

/**
 * One Tutor plugin entry (recipes/tutor.ts parsePluginEntry reads it): a plugin's name, installed
 * with Tutor, or `name=<pip requirement>` for a plugin pip installs first.
 */
export function checkTutorPlugin(entry: string): string | null {
  const { name, pip } = parsePluginEntry(entry);
  if (PLUGIN_NAME.test(name) && (pip === null || PIP_REQUIREMENT.test(pip))) return null;
  return `"${entry}" is not a plugin entry: write a plugin's name (like mfe or indigo, which come with Tutor) or name=<pip requirement> ` +
    "(like indigo=tutor-indigo>=21.0.0,<22 or s3=git+https://github.com/hastexo/tutor-contrib-s3@v2.3.1), one per line, without spaces or shell characters.";
}

const ANSIBLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The extra ansible variables: YAML (as ansible reads it) that parses to a mapping of valid variable names (or nothing). */
export function checkExtraVariables(text: string): string | null {
  if (!text.trim()) return null;
  const doc = parseAnsibleDocument(text, { prettyErrors: true, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) return `Not valid YAML: ${error.message.split("\n")[0]!.replace(/:$/, "")}.`;
  const tagged = unknownTag(doc.warnings);
  if (tagged) return tagged;
  let expanded: unknown;
  try {
    expanded = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return `Not valid YAML: ${(err as Error).message}`;
  }
  const size = oversizeVariables(expanded);
  if (size) {
    return `These variables expand to ${size} once their aliases are resolved; at most ${MAX_VARIABLES_JSON_BYTES / 1_000_000} MB is allowed. Use fewer aliases (*name) or shorter values.`;
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return null;
  const shape = "Must be a mapping of variable names to values (lines like NAME: value)";
  if (isSeq(root)) return `${shape}, not a list.`;
  if (!isMap(root)) return `${shape}, not a single value.`;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : null;
    const line = pair.key && isScalar(pair.key) && pair.key.range ? ` (line ${lineOf(text, pair.key.range[0])})` : "";
    if (typeof key !== "string" || !ANSIBLE_NAME.test(key)) {
      // As written (`yes:` is the boolean true to ansible, not a name).
      const written = isScalar(pair.key) ? (pair.key.source ?? String(key)) : String(key);
      const reads = typeof key === "boolean" ? ` (ansible reads it as the boolean ${key})` : "";
      return `"${written}" is not a valid ansible variable name${line}${reads}: use letters, digits and _, not starting with a digit.`;
    }
    if (OCIM_OWNED_VARIABLES.includes(key)) return `${ownedVariableReason(key)}. Remove it from these variables${line}.`;
  }
  return null;
}

/**
 * A YAML tag the variables cannot keep (the yaml package drops it with a warning and keeps the bare
 * value): the snapshot and vars.yml hold plain values, so `!vault` would send its ciphertext as the
 * value and `!unsafe` would let ansible template it. Null when there is none.
 */
function unknownTag(warnings: readonly YAMLWarning[]): string | null {
  const warning = warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
  if (!warning) return null;
  const tag = /Unresolved tag: (\S+)/.exec(warning.message)?.[1] ?? "this tag";
  const where = warning.linePos ? ` (line ${warning.linePos[0].line})` : "";
  if (tag === "!vault") {
    return `An ansible-vault value${where} cannot be used: Ocim has no vault password and would send the encrypted text as the value. ` +
      "Paste the value itself: it is shown masked wherever it appears, under a key such as …_PASSWORD or …_SECRET.";
  }
  return `The YAML tag ${tag}${where} cannot be kept: Ocim sends plain values (text, numbers, true/false, lists, mappings) to the playbook. Remove the tag.`;
}

/** A GitHub-style pull request URL (https, ending in /pull/<number>); gives the number. */
export function parsePullRequestUrl(url: string): { number: number } | { error: string } {
  const usage = "Enter the pull request's https:// URL, ending in /pull/<number>.";
  if (!/^[^\s"'<>\\`]+$/.test(url)) return { error: `${usage} It may not contain spaces or quotes.` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: usage };
  }
  if (parsed.protocol !== "https:" || parsed.username || parsed.password || !parsed.hostname) return { error: usage };
  const match = parsed.pathname.match(/\/pull\/(\d{1,9})(?:\/.*)?$/);
  if (!match) return { error: usage };
  return { number: Number(match[1]) };
}
