// "How do I get onto this VM?": the exact ssh command for the person looking at an appserver's
// page, with the Unix account the SSH-access sync made for them (DESIGN §11), or why there is
// none yet and what makes one. Reads Redis only (whether the viewer has a key comes with the page's
// own read, hasGithubKeySql); never connects to the VM.
import type { Deps } from "../../deps.js";
import { Prisma } from "../../generated/prisma/client.ts";
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
  /** Whether the sync holds a GitHub key of the viewer's (hasGithubKeySql). */
  viewerHasGithubKey: boolean;
  status: string;
  vmStatus: string;
  publicIp: string | null;
  sshPort: number | null;
}

/**
 * Whether the SSH-access sync holds a GitHub key of this login (compared ignoring case, as GitHub
 * does), as an SQL expression: the appserver page reads it in its one statement (getAppServerDetail).
 * As a Prisma count of its own it cost 0.58–1.12 ms of CPU per view (raw, 0.28–0.53 ms and a round
 * trip): with GITHUB_ORG set, as on any real console, the page answered 485–596 req/s on one web
 * process against 603–757 without it; read with the page, 651–823 against 580–704 (issue 17).
 */
export function hasGithubKeySql(login: string): Prisma.Sql {
  return Prisma.sql`EXISTS (SELECT 1 FROM "GithubKey" k WHERE lower(k."githubLogin") = lower(${login}))`;
}

export async function getSshCommand(deps: Pick<Deps, "redis" | "config">, input: { appServer: SshTarget; user: Pick<SessionUser, "githubLogin"> }): Promise<SshCommand> {
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
  if (!a.viewerHasGithubKey) {
    const fetched = await deps.redis.hget(fetchStatusKey(deps.config.QUEUE_PREFIX), "okAt");
    return none(fetched
      ? `You have no SSH key on GitHub (as of ${fetched.slice(0, 16).replace("T", " ")} UTC). Add one at github.com/settings/keys: the next sync (${every}) installs it.`
      : `The organization's keys have not been fetched from GitHub yet: the SSH-access sync runs ${every}.`);
  }
  const synced = await deps.redis.hget(syncedKey(deps.config.QUEUE_PREFIX), String(a.id));
  if (!synced) return none(`Not synced yet: the SSH-access sync (${every}) has not reached this appserver, so your account ${account} is not on it.`);
  const port = a.sshPort ?? 22;
  return {
    command: `ssh ${port === 22 ? "" : `-p ${port} `}${account}@${a.publicIp}`,
    account,
    syncedAt: new Date(synced),
    note: a.sshPort === null ? "The VM's SSH port was not recorded (an appserver from before Ocim recorded it): 22 assumed." : null,
  };
}
