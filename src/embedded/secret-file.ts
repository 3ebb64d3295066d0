// Secrets Ocim generates for itself and keeps under DATA_DIR (the secret key, the embedded servers'
// passwords): one file each, readable by Ocim's own OS user only.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { randomToken } from "../crypto.js";

/** The secret in `file`, made (random, mode 600) when there is none yet; `created` says which. */
export function readOrCreateSecret(file: string, bytes = 32): { value: string; created: boolean } {
  let created = false;
  try {
    // "wx": of two processes starting at once, one writes and both read what it wrote.
    writeFileSync(file, randomToken(bytes) + "\n", { mode: 0o600, flag: "wx" });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // A file restored from a backup or copied by hand may come back readable by everyone.
  chmodSync(file, 0o600);
  return { value: readFileSync(file, "utf8").trim(), created };
}

/** The secret in `file`, for a process joining servers that another one started (the CLI). */
export function readSecret(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new Error(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code}): run this as the user that runs Ocim (npm start).`);
  }
}
