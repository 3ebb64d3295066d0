// The slow half of terminate (DESIGN §9): the terminated transition committed in the request and
// queued this through the outbox; the provider deletes the VM (idempotent: a VM already gone is
// fine), then the appserver records it. Retried by its job on a provider hiccup.
import type { Deps } from "../../deps.js";
import type { VmProvider } from "../provisioning/ports.js";
import { moveAppServerNow } from "./lifecycle.js";

export async function deleteAppServerVm(
  deps: Pick<Deps, "db" | "now">,
  input: { appServerId: number; provider(kind: string): VmProvider },
): Promise<string> {
  const as = await deps.db.appServer.findUnique({ where: { id: input.appServerId }, select: { providerKind: true, providerServerId: true, vmStatus: true } });
  if (!as) return "gone";
  if (as.vmStatus === "terminated") return "The VM was deleted already.";
  if (as.providerServerId) await input.provider(as.providerKind).deleteServer(as.providerServerId);
  await moveAppServerNow(deps, "vmGone", { appServerId: input.appServerId, set: { vmStatus: "terminated" } });
  return "The VM was deleted.";
}
