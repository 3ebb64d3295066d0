// Step one of SSH access (DESIGN §11): the organization's members and their public keys from
// GitHub, stored as GithubKey rows. Members who left (and keys removed on GitHub) are deleted, but
// only after a complete answer: when GitHub refuses, redirects to the public members or asks to
// slow down, the rows (and so everyone's access) stay as they were, and the reason is recorded for
// the SSH access page.
import { createHash } from "node:crypto";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { GithubRateLimited, GithubRefused } from "../../adapters/github/port.js";

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

/** The outcome of the last fetch (a Redis hash: okAt, and failedAt + error when it failed since). */
/** Per console (QUEUE_PREFIX), like syncedKey. */
export const fetchStatusKey = (queuePrefix: string) => `${queuePrefix}:ssh-access:fetch`;

type KeyRow = { githubLogin: string; key: string; fingerprint: string };

export async function fetchGithubKeys(deps: Pick<Deps, "db" | "github" | "config" | "now" | "redis" | "log">): Promise<FetchedKeys> {
  const org = deps.config.GITHUB_ORG;
  if (!org) throw new AppError("rule", "GITHUB_ORG is not set, so there is no organization to take SSH keys from.");
  let members: string[];
  let rows: KeyRow[];
  try {
    members = await deps.github.listOrgMembers(org);
    rows = await keysOf(deps, members);
  } catch (err) {
    const reason = err instanceof GithubRefused ? err.reason : err instanceof GithubRateLimited ? "rate_limited" : "error";
    deps.log.warn({ err, org, reason }, "sshkeys.fetch.failed");
    await deps.redis.hset(fetchStatusKey(deps.config.QUEUE_PREFIX), { failedAt: deps.now().toISOString(), error: failureMessage(err) });
    throw err;
  }
  const now = deps.now();
  const before = await deps.db.githubKey.findMany({ distinct: ["githubLogin"], select: { githubLogin: true } });
  await deps.db.$transaction(async (tx) => {
    await tx.githubKey.deleteMany({});
    if (rows.length) await tx.githubKey.createMany({ data: rows.map((r) => ({ ...r, fetchedAt: now })), skipDuplicates: true });
  });
  await deps.redis.multi().hset(fetchStatusKey(deps.config.QUEUE_PREFIX), { okAt: now.toISOString() }).hdel(fetchStatusKey(deps.config.QUEUE_PREFIX), "failedAt", "error").exec();
  const kept = new Set(members);
  return { members: members.length, keys: rows.length, removedLogins: before.map((b) => b.githubLogin).filter((l) => !kept.has(l)) };
}

async function keysOf(deps: Pick<Deps, "github">, members: string[]): Promise<KeyRow[]> {
  const rows: KeyRow[] = [];
  for (const login of members) {
    for (const key of await deps.github.listUserKeys(login)) {
      // Only well-formed key lines reach authorized_keys: nothing else can be smuggled in.
      if (KEY_RE.test(key)) rows.push({ githubLogin: login, key, fingerprint: fingerprint(key) });
    }
  }
  return rows;
}

/** What an operator reads on the SSH access page, with what to do about it. */
function failureMessage(err: unknown): string {
  const message = (err as Error).message;
  if (!(err instanceof GithubRefused)) return message;
  const todo = {
    sso_required: "Authorize GITHUB_TOKEN for the organization's single sign-on (on GitHub: Settings, Developer settings, Personal access tokens, Configure SSO).",
    oauth_app_restricted: "Use a personal access token as GITHUB_TOKEN, or have an owner approve the app.",
    incomplete_list: "Check that GITHUB_TOKEN has the read:org scope and that its owner is a member of the organization.",
    refused: "Check GITHUB_TOKEN's scopes and the organization's settings.",
  }[err.reason];
  return `${message} ${todo}`;
}
