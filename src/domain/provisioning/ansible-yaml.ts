// YAML as ansible reads it. Ansible loads variables files (`-e @vars.yml`) with PyYAML, which speaks
// YAML 1.1 (https://docs.ansible.com/ansible/latest/reference_appendices/YAMLSyntax.html: yes/no and
// on/off are booleans, 0755 is octal, 1:30 sexagesimal, `<<` merges), while the yaml package
// defaults to YAML 1.2, where those are strings or decimals. So the extra variables are read, and
// vars.yml is written, as 1.1: an operator's `MODE: 0755` is 493 to Ocim as to ansible, and a string
// such as "no" or "1:30" in the snapshot reaches the playbook as that string (quoted), not as false
// or 90. Two departures from the yaml package's 1.1, to read as PyYAML does (its resolver.py): y/Y/n/N
// are strings, not booleans; and the extra variables keep no value that JSON (the snapshot) cannot
// hold as it is: a date stays its text, and !!binary, !!set, !!omap, !!pairs are unknown tags there.
import { parse, parseDocument, Scalar, stringify, type Document, type DocumentOptions, type ParseOptions, type ScalarTag, type Tags } from "yaml";

const BOOL = "tag:yaml.org,2002:bool";
const NOT_JSON = new Set(["binary", "set", "omap", "pairs", "timestamp"].map((t) => `tag:yaml.org,2002:${t}`));

/** PyYAML's booleans: yes/no, true/false, on/off in three cases each; never y or n. */
function pyBool(value: boolean, test: RegExp): ScalarTag {
  return {
    identify: (v) => v === value,
    default: true,
    tag: BOOL,
    test,
    resolve: () => new Scalar(value),
    stringify: ({ value: v }, ctx) => (v ? ctx.options.trueStr : ctx.options.falseStr),
  };
}
const PY_TRUE = pyBool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/);
const PY_FALSE = pyBool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/);

function pyyamlTags(keepNonJson: boolean) {
  return (tags: Tags): Tags => tags
    .filter((t) => keepNonJson || typeof t !== "object" || !NOT_JSON.has(t.tag))
    .map((t) => (typeof t === "object" && t.tag === BOOL ? ((t as ScalarTag).identify?.(true) ? PY_TRUE : PY_FALSE) : t));
}

/** Reading: values JSON keeps as they are. */
const READ = { version: "1.1", customTags: pyyamlTags(false) } as const;
/** Writing: every 1.1 type known, so a string that PyYAML would read as a date, a set… is quoted. */
const WRITE = { version: "1.1", customTags: pyyamlTags(true) } as const;

/** The value of an ansible YAML text (the extra variables). */
export function parseAnsibleYaml(text: string): unknown {
  return parse(text, READ);
}

/** The document of an ansible YAML text, for checks that need line numbers, node kinds and warnings. */
export function parseAnsibleDocument(text: string, options: ParseOptions & DocumentOptions = {}): Document.Parsed {
  return parseDocument(text, { ...options, ...READ });
}

/** Variables as YAML that ansible reads back as the same values (what vars.yml holds and the pages show). */
export function ansibleYaml(value: unknown, options: { sortMapEntries?: boolean } = {}): string {
  return stringify(value, { ...options, ...WRITE });
}

/** The 1-based line of `offset` in `text` (a node's range start), for messages that name a line. */
export function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}
