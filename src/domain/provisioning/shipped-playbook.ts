// A playbook that ships with Ocim (PlaybookSpec.shipped: a directory of the project's playbooks/,
// e.g. the tutor recipe's): its files, read from this checkout, for the clone step to upload to
// the VM where a configuration repository would have been cloned.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../../errors.js";

const PLAYBOOKS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../playbooks");

export interface ShippedFile {
  /** Relative to the playbook's directory, with `/` separators. */
  relative: string;
  content: Buffer;
}

/** Every file of playbooks/<name>/, sorted by path. The name comes from a snapshot: only a plain directory name is read. */
export function readShippedPlaybook(name: string): ShippedFile[] {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new AppError("validation", `"${name}" is not a playbook shipped with Ocim.`);
  const root = path.join(PLAYBOOKS_DIR, name);
  let entries: string[];
  try {
    entries = readdirSync(root, { recursive: true, encoding: "utf8" });
  } catch {
    throw new AppError("validation", `Ocim ships no playbook "${name}" (no directory playbooks/${name}).`);
  }
  return entries
    .map((relative) => ({ relative: relative.split(path.sep).join("/"), full: path.join(root, relative) }))
    .filter((e) => statSync(e.full).isFile())
    .sort((a, b) => a.relative.localeCompare(b.relative))
    .map((e) => ({ relative: e.relative, content: readFileSync(e.full) }));
}

