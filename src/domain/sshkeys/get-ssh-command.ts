// "How do I get onto this VM?": the exact ssh command for the person looking at an appserver's
// page, with the Unix account the SSH-access sync made for them (DESIGN §11), or why there is
// none yet and what makes one. Reads the database and Redis only; never connects to the VM.
import type { Deps } from "../../deps.js";
import type { SessionUser } from "../auth/login-github-user.js";
import { fetchStatusKey } from "./fetch-github-keys.js";
import { syncedKey, accountName } from "./sync-ssh-access.js";

/** The statuses the sync reaches (sync-ssh-access.ts): a failed appserver too, which is the point. */
const SYNCED_STATUSES = new Set(["running", "failed"]);

export type SshCommand =
  | { command: string; account: string; syncedAt: Date; note: string | null }
  | { command: null; account: string; why: string };

export interface SshTarget {
  id: number;
  status: string;
  vmStatus: string;
  publicIp: string | null;
  sshPort: number | null;
}

/**
 * Whether the sync holds a GitHub key of this login (compared ignoring case, as GitHub does). A raw
 * EXISTS, not githubKey.count(): Prisma 6 compiles each model query on the event loop, 0.58–1.12 ms
 * of CPU per call against 0.28–0.53 ms (2,000 calls each, this machine). With GITHUB_ORG set, as on
 * any real console, the appserver page makes it on every view, whose whole CPU is 1.3–2 ms (issue 17).
 */
async function hasGithubKey(deps: Pick<Deps, "db">, login: string): Promise<boolean> {
  const [row] = await deps.db.$queryRaw<[{ has: boolean }]>`SELECT EXISTS (SELECT 1 FROM "GithubKey" WHERE lower("githubLogin") = lower(${login})) AS has`;
  return row.has;
}

export async function getSshCommand(deps: Pick<Deps, "db" | "redis" | "config">, input: { appServer: SshTarget; user: Pick<SessionUser, "githubLogin"> }): Promise<SshCommand> {
  const a = input.appServer;
  const account = accountName(deps.config.SSH_ACCOUNT_PREFIX, input.user.githubLogin);
  const none = (why: string): SshCommand => ({ command: null, account, why });
  const every = `every ${deps.config.SSH_KEYS_SYNC_MINUTES} minutes`;
  if (a.status === "terminated" || a.vmStatus === "terminated") return none("The VM was deleted: there is nothing to log in to.");
  if (!a.publicIp) return none("The VM has no IP address yet: the command appears once the VM is ready.");
  if (!deps.config.GITHUB_ORG) return none("SSH access is off: GITHUB_ORG is not set, so no organization member's key is installed on the VMs.");
  if (!SYNCED_STATUSES.has(a.status)) {
    return none(`The SSH-access sync (${every}) makes accounts on running and failed appservers; this one is ${a.status}. It gets yours once provisioning ends, even if it fails.`);
  }
  const [hasKey, fetched, synced] = await Promise.all([
    hasGithubKey(deps, input.user.githubLogin),
    deps.redis.hget(fetchStatusKey(deps.config.QUEUE_PREFIX), "okAt"),
    deps.redis.hget(syncedKey(deps.config.QUEUE_PREFIX), String(a.id)),
  ]);
  if (!hasKey) {
    return none(fetched
      ? `You have no SSH key on GitHub (as of ${fetched.slice(0, 16).replace("T", " ")} UTC). Add one at github.com/settings/keys: the next sync (${every}) installs it.`
      : `The organization's keys have not been fetched from GitHub yet: the SSH-access sync runs ${every}.`);
  }
  if (!synced) return none(`Not synced yet: the SSH-access sync (${every}) has not reached this appserver, so your account ${account} is not on it.`);
  const port = a.sshPort ?? 22;
  return {
    command: `ssh ${port === 22 ? "" : `-p ${port} `}${account}@${a.publicIp}`,
    account,
    syncedAt: new Date(synced),
    note: a.sshPort === null ? "The VM's SSH port was not recorded (an appserver from before Ocim recorded it): 22 assumed." : null,
  };
}
