// One appserver's status fields, as the API shows them. The config snapshot is left out: it holds
// the merged playbook variables, secrets included.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";

export async function getAppServer(deps: Pick<Deps, "db">, input: { id: number }) {
  const appServer = await deps.db.appServer.findUnique({
    where: { id: input.id },
    select: {
      id: true, instanceId: true, name: true, status: true, vmStatus: true, publicIp: true, isActive: true,
      failureSummary: true, createdAt: true, lastActivatedAt: true, terminatedAt: true,
    },
  });
  if (!appServer) throw notFound("AppServer");
  return appServer;
}
