// Step two of SSH access (DESIGN §11): on every live appserver (running or failed: debugging a
// failed deployment is the point) one Unix account per organization member, with their GitHub keys
// and sudo; accounts of members who left are removed. The set of accounts Ocim manages is a Unix
// group, so nobody else's account is ever touched.
import type { Deps } from "../../deps.js";
import { shellQuote } from "../../adapters/ssh/quote.js";
import type { ProvisioningPorts } from "../provisioning/ports.js";
import { connectAppServer } from "../provisioning/connect-appserver.js";
import { sshUsersFrom } from "../recipes/plan-launch.js";

/** Per console (QUEUE_PREFIX): consoles sharing a Redis keep their own. Default: "ocim:ssh-access:synced". */
export const syncedKey = (queuePrefix: string) => `${queuePrefix}:ssh-access:synced`;

/** A Unix account name for a GitHub login: lowercase, [a-z0-9_-], at most 32 characters. */
export function accountName(prefix: string, login: string): string {
  return `${prefix}${login.toLowerCase().replace(/[^a-z0-9_-]/g, "-")}`.slice(0, 32);
}

export function groupName(prefix: string): string {
  return prefix ? `${prefix}members` : "ocim-members";
}

/** The script run as root on each appserver; idempotent. */
export function accessScript(prefix: string, members: { account: string; keys: string[] }[]): string {
  const group = shellQuote(groupName(prefix));
  const lines = [
    "set -e",
    // useradd, usermod, groupadd and userdel exit 10 when another process holds the lock on
    // /etc/passwd (shadow-utils: E_PW_UPDATE... "cannot lock"; e.g. a playbook or cloud-init adding
    // users at the same time): wait and try again, up to 30 s, instead of failing the sync.
    'locked() { n=0; until "$@"; do rc=$?; [ "$rc" -eq 10 ] && [ "$n" -lt 30 ] || return "$rc"; n=$((n + 1)); sleep 1; done; }',
    `getent group ${group} >/dev/null || locked groupadd ${group}`,
  ];
  for (const m of members) {
    const name = shellQuote(m.account);
    lines.push(
      `id -u ${name} >/dev/null 2>&1 || locked useradd -m -s /bin/bash -G ${group} ${name}`,
      // "*": no password login, but not "locked" ("!"), which sshd without PAM treats as no login at all.
      `locked usermod -aG ${group} -p '*' ${name}`,
      `home=$(getent passwd ${name} | cut -d: -f6)`,
      `mkdir -p "$home/.ssh" && printf '%s\\n' ${m.keys.map(shellQuote).join(" ")} > "$home/.ssh/authorized_keys"`,
      `chown -R ${name}: "$home/.ssh" && chmod 700 "$home/.ssh" && chmod 600 "$home/.ssh/authorized_keys"`,
      `mkdir -p /etc/sudoers.d && printf '%s ALL=(ALL) NOPASSWD:ALL\\n' ${name} > /etc/sudoers.d/ocim-${m.account} && chmod 440 /etc/sudoers.d/ocim-${m.account}`,
    );
  }
  const wanted = shellQuote(` ${members.map((m) => m.account).join(" ")} `);
  lines.push(
    `for u in $(getent group ${group} | cut -d: -f4 | tr ',' ' '); do`,
    `  case ${wanted} in *" $u "*) ;; *) pkill -KILL -u "$u" 2>/dev/null || true; locked userdel -r "$u" 2>/dev/null || locked userdel "$u"; rm -f "/etc/sudoers.d/ocim-$u"; echo "removed $u";; esac`,
    "done",
  );
  return lines.join("\n");
}

export interface SyncOutcome {
  synced: number[];
  failed: { appServerId: number; message: string }[];
}

export async function syncSshAccess(deps: Deps, ports: ProvisioningPorts): Promise<SyncOutcome> {
  const prefix = deps.config.SSH_ACCOUNT_PREFIX;
  // Members without keys get no account: they could not log in anyway.
  const members = (await sshUsersFrom(deps.db)).map((u) => ({ account: accountName(prefix, u.githubLogin), keys: u.keys }));
  const script = accessScript(prefix, members);
  const live = await deps.db.appServer.findMany({
    where: { status: { in: ["running", "failed"] }, providerServerId: { not: null } },
    select: { id: true, providerKind: true, providerServerId: true },
  });
  const outcome: SyncOutcome = { synced: [], failed: [] };
  for (const as of live) {
    try {
      const provider = ports.provider(as.providerKind);
      const vm = await provider.getServer(as.providerServerId!);
      if (!vm || vm.status !== "ready") throw new Error("the VM is not reachable");
      const login = await provider.sshLogin();
      const shell = await connectAppServer(deps, ports, { appServerId: as.id, provider, vm, deadlineMs: 60_000 });
      try {
        const command = login.username === "root" ? `sh -c ${shellQuote(script)}` : `sudo -n sh -c ${shellQuote(script)}`;
        const res = await shell.exec(command, { timeoutMs: 120_000 });
        if (res.code !== 0) throw new Error(`the account script failed (exit ${res.code}): ${res.stderr.trim().slice(0, 300)}`);
      } finally {
        await shell.close();
      }
      await deps.redis.hset(syncedKey(deps.config.QUEUE_PREFIX), String(as.id), deps.now().toISOString());
      outcome.synced.push(as.id);
    } catch (err) {
      outcome.failed.push({ appServerId: as.id, message: (err as Error).message });
    }
  }
  deps.log.info({ synced: outcome.synced.length, failed: outcome.failed.length, members: members.length }, "sshkeys.sync.done");
  return outcome;
}
