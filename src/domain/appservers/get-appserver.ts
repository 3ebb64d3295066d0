// One appserver's status fields, as the API shows them. The config snapshot is left out: it holds
// the merged playbook variables, secrets included.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";
import type { SessionUser } from "../auth/login-github-user.js";
import { maySeeSecrets } from "../auth/may-see.js";
import { authenticatedLink } from "./get-appserver-detail.js";
import { httpPortOf } from "./health-gate.js";
import { readSnapshot } from "./config-snapshot.js";

/** `authenticatedLink` carries the basic-auth password: null unless the user may see secrets. */
export async function getAppServer(deps: Pick<Deps, "db" | "secrets">, input: { id: number; user?: SessionUser }) {
  const appServer = await deps.db.appServer.findUnique({
    where: { id: input.id },
    select: {
      id: true, instanceId: true, name: true, status: true, vmStatus: true, publicIp: true, isActive: true,
      failureSummary: true, createdAt: true, lastActivatedAt: true, terminatedAt: true,
      configSnapshot: true, instance: { select: { secretKeyEncrypted: true } },
    },
  });
  if (!appServer) throw notFound("AppServer");
  const { configSnapshot, instance, ...fields } = appServer;
  const live = fields.status !== "terminated";
  return {
    ...fields,
    authenticatedLink: live && maySeeSecrets(input.user) ? authenticatedLink(deps.secrets, instance, fields.publicIp, httpPortOf(readSnapshot(configSnapshot, fields.name)), true) : null,
  };
}
