// Where a `local` balancer may write on this host: only inside LOCAL_LB_DIR. Ocim replaces these
// files (renames over them) and haproxy writes its pid file beside them, with Ocim's rights, so a
// path an admin may type must never reach /etc/passwd or ~/.ssh/authorized_keys. Checked when a
// balancer is saved, and again right before each write: a row may be older than this rule, and
// the directory may have changed since the save.
import { lstatSync, realpathSync } from "node:fs";
import path from "node:path";

/** Why a file is no place for a local balancer: lexically outside, or reached through a symbolic link out. */
export type LocalFileProblem = "outside" | "link";

/** Null when `file` (absolute, normalized) is inside `dir` once every symbolic link on the way is followed. */
export function localFileProblem(dir: string, file: string): LocalFileProblem | null {
  if (path.normalize(file) !== file || !isInside(dir, file)) return "outside";
  const root = resolveExisting(dir);
  const real = resolveExisting(file);
  return root !== null && real !== null && isInside(root, real) ? null : "link";
}

function isInside(dir: string, file: string): boolean {
  return file.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * The path with its longest existing part replaced by its real path (links followed); the part
 * still to be created is appended as it is. Null for a dangling or looping link: where a write
 * through it would land cannot be told.
 */
function resolveExisting(file: string): string | null {
  let existing = file;
  for (;;) {
    try {
      lstatSync(existing);
      break;
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return null;
      existing = parent;
    }
  }
  try {
    return path.join(realpathSync(existing), path.relative(existing, file));
  } catch {
    return null;
  }
}

/** The message beside a form's path field. */
export function localFileFieldMessage(dir: string, file: string, problem: LocalFileProblem): string {
  return problem === "outside"
    ? `A local load balancer's files must be inside ${dir} (the LOCAL_LB_DIR setting), e.g. ${path.join(dir, "haproxy.cfg")}.`
    : `${file} leads out of ${dir} through a symbolic link.`;
}

/** Why an apply refuses to write (recorded as the balancer's last error). */
export function localFileApplyMessage(balancer: string, dir: string, file: string, problem: LocalFileProblem): string {
  return problem === "outside"
    ? `Load balancer ${balancer} writes ${file}, outside ${dir} (the LOCAL_LB_DIR setting), so it is not applied: move its files into that directory, or make it an ssh balancer.`
    : `Load balancer ${balancer} writes ${file}, which leads out of ${dir} through a symbolic link, so it is not applied.`;
}
