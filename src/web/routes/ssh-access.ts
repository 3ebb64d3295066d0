// Who has SSH access to the appservers (the organization's members with keys) and when each live
// appserver was last synced.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { syncedKey, accountName } from "../../domain/sshkeys/sync-ssh-access.js";
import { fetchStatusKey } from "../../domain/sshkeys/fetch-github-keys.js";
import { renderPage } from "../render.js";

export function sshAccessRoutes(deps: Deps): Router {
  const router = Router();
  router.get("/ssh-access", async (_req, res) => {
    const [keys, live, synced, fetched] = await Promise.all([
      deps.db.githubKey.groupBy({ by: ["githubLogin"], _count: { _all: true }, _max: { fetchedAt: true }, orderBy: { githubLogin: "asc" } }),
      deps.db.appServer.findMany({
        where: { status: { in: ["running", "failed"] }, providerServerId: { not: null } },
        select: { id: true, number: true, name: true, status: true, instance: { select: { id: true, name: true } } },
        orderBy: [{ instanceId: "asc" }, { id: "asc" }],
        take: 1000,
      }),
      deps.redis.hgetall(syncedKey(deps.config.QUEUE_PREFIX)),
      deps.redis.hgetall(fetchStatusKey(deps.config.QUEUE_PREFIX)),
    ]);
    await renderPage(res, "access/ssh", {
      title: "SSH access",
      org: deps.config.GITHUB_ORG ?? "",
      every: deps.config.SSH_KEYS_SYNC_MINUTES,
      fetchFailure: fetched.error ? { at: new Date(fetched.failedAt ?? 0), message: fetched.error } : null,
      /** When GitHub last answered in full (null: never): with no member listed, the organization has none with a key. */
      fetchedAt: fetched.okAt ? new Date(fetched.okAt) : null,
      members: keys.map((k) => ({ login: k.githubLogin, account: accountName(deps.config.SSH_ACCOUNT_PREFIX, k.githubLogin), keys: k._count._all, fetchedAt: k._max.fetchedAt })),
      appServers: live.map((a) => ({ ...a, syncedAt: synced[String(a.id)] ? new Date(synced[String(a.id)]!) : null })),
    });
  });
  return router;
}
