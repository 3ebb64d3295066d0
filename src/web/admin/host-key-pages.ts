// An ssh balancer's pinned SSH host key (domain/loadbalancer/host-key.ts): the page shows it and
// lets an admin clear it after the host was reinstalled; the next apply records the new key.
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { flash } from "../middleware.js";
import { clearBalancerHostKey } from "../../domain/loadbalancer/host-key.js";
import { loadBalancerAdmin } from "./models/load-balancers.js";
import { actorOf, idOf, missing, renderAdmin } from "./page-helpers.js";

export function hostKeyPages(deps: Deps) {
  return {
    async page(req: Request, res: Response) {
      const id = idOf(req, loadBalancerAdmin);
      const lb = await deps.db.loadBalancer.findUnique({ where: { id }, select: { id: true, name: true, kind: true, host: true, sshPort: true, hostKeyFingerprint: true, lastError: true } });
      if (!lb) throw missing(loadBalancerAdmin, id);
      await renderAdmin(res, "host-key", loadBalancerAdmin, { title: `SSH host key of ${lb.name}`, lb });
    },

    async clearSubmit(req: Request, res: Response) {
      const id = idOf(req, loadBalancerAdmin);
      const { name, cleared } = await clearBalancerHostKey(deps, { actor: actorOf(req), id });
      flash(req, "ok", cleared
        ? `Cleared the recorded host key of ${name} (${cleared}); the next apply records the key the host shows then.`
        : `No host key was recorded for ${name}; nothing was changed.`);
      res.redirect(`/admin/load-balancers/${id}`);
    },
  };
}
