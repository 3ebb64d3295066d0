// The cleanup's last step for pull-request sandboxes (docs/pr-sandboxes.md): archives every sandbox
// whose pull request closed more than keepDaysAfterClose days ago and that has no appserver left
// alive (the cleanup plan terminated them just before; one pinned or still provisioning keeps its
// sandbox for the next run). Through archiveInstance, so the balancer drops its domains.
import type { Deps } from "../../deps.js";
import type { Actor } from "../audit/record-audit-event.js";
import { archiveInstance } from "../instances/archive-instance.js";
import { SANDBOX_CLOSURE_SELECT, sandboxRemoveOn } from "./sandbox-expiry.js";

export async function archiveExpiredSandboxes(deps: Pick<Deps, "db" | "now">, actor: Actor): Promise<{ archived: number[]; failed: { id: number; message: string }[] }> {
  const now = deps.now();
  const closed = await deps.db.instance.findMany({
    where: { isArchived: false, pullRequestClosedAt: { not: null }, watchedRepositoryId: { not: null }, appServers: { none: { status: { not: "terminated" } } } },
    select: { id: true, ...SANDBOX_CLOSURE_SELECT },
  });
  const out = { archived: [] as number[], failed: [] as { id: number; message: string }[] };
  for (const sandbox of closed) {
    const due = sandboxRemoveOn(sandbox);
    if (!due || due > now) continue;
    try {
      await archiveInstance(deps, { instanceId: sandbox.id, actor });
      out.archived.push(sandbox.id);
    } catch (err) {
      out.failed.push({ id: sandbox.id, message: (err as Error).message });
    }
  }
  return out;
}
