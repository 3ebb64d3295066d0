// Step one of SSH access (DESIGN §11): the organization's members and their public keys from
// GitHub, stored as GithubKey rows. Members who left (and keys removed on GitHub) are deleted.
import { createHash } from "node:crypto";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";

/** OpenSSH's SHA256 fingerprint of a public key line. */
export function fingerprint(key: string): string {
  const blob = key.trim().split(/\s+/)[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

const KEY_RE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;

export interface FetchedKeys {
  members: number;
  keys: number;
  removedLogins: string[];
}

export async function fetchGithubKeys(deps: Pick<Deps, "db" | "github" | "config" | "now">): Promise<FetchedKeys> {
  const org = deps.config.GITHUB_ORG;
  if (!org) throw new AppError("rule", "GITHUB_ORG is not set, so there is no organization to take SSH keys from.");
  const members = await deps.github.listOrgMembers(org);
  const rows: { githubLogin: string; key: string; fingerprint: string }[] = [];
  for (const login of members) {
    for (const key of await deps.github.listUserKeys(login)) {
      // Only well-formed key lines reach authorized_keys: nothing else can be smuggled in.
      if (KEY_RE.test(key)) rows.push({ githubLogin: login, key, fingerprint: fingerprint(key) });
    }
  }
  const now = deps.now();
  const before = await deps.db.githubKey.findMany({ distinct: ["githubLogin"], select: { githubLogin: true } });
  await deps.db.$transaction(async (tx) => {
    await tx.githubKey.deleteMany({});
    if (rows.length) await tx.githubKey.createMany({ data: rows.map((r) => ({ ...r, fetchedAt: now })), skipDuplicates: true });
  });
  const kept = new Set(members);
  return { members: members.length, keys: rows.length, removedLogins: before.map((b) => b.githubLogin).filter((l) => !kept.has(l)) };
}
