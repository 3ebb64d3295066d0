// This host's OS, from os-release(5): what the local provider's VMs run, since they are sshd
// processes on this host (local.ts). Read once at boot; the OS does not change under a running Ocim.
import { readFileSync } from "node:fs";

export interface OsRelease {
  /** ID: "ubuntu", "debian"… */
  id: string;
  /** VERSION_ID: "24.04", "12". */
  versionId: string;
  /** PRETTY_NAME, for people: "Debian GNU/Linux 12 (bookworm)". */
  name: string;
}

/** Null when the host has no readable os-release (not Linux, a bare container): its OS is unknown. */
export function readOsRelease(file = "/etc/os-release"): OsRelease | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return null;
  }
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = line.match(/^([A-Z0-9_]+)=(.*)$/);
    // Values may be quoted, shell-style (os-release(5)); none of the three read here holds an escape in practice.
    if (match) fields.set(match[1]!, match[2]!.trim().replace(/^(["'])(.*)\1$/, "$2"));
  }
  const id = fields.get("ID") ?? "linux";
  const versionId = fields.get("VERSION_ID") ?? "";
  return { id, versionId, name: fields.get("PRETTY_NAME") ?? `${fields.get("NAME") ?? id} ${versionId}`.trim() };
}
