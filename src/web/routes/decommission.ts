// The Decommission panel's steps on the instance page (docs/admin.md, "Decommissioning"). Each
// parses, calls one command, then returns to the panel with its message; a refusal (a step out of
// order, the state changed meanwhile) is told there and changed nothing. Deleting is the admin's
// delete page, which asks what becomes of the instance's data.
import { Router, type Request } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { setMaintenance } from "../../domain/instances/set-maintenance.js";
import { archiveInstance } from "../../domain/instances/archive-instance.js";
import { deactivateInstanceAppServers } from "../../domain/appservers/activation.js";
import { terminateInstanceAppServers } from "../../domain/appservers/terminate-appserver.js";
import type { Actor } from "../../domain/audit/record-audit-event.js";
import { flash } from "../middleware.js";
import { idOr404 } from "./route-helpers.js";

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

const STEPS: Record<string, (deps: Deps, instanceId: number, actor: Actor) => Promise<string>> = {
  "maintenance-on": async (deps, instanceId, actor) => {
    const r = await setMaintenance(deps, { instance: instanceId, actor, on: true });
    return `${r.name} is in maintenance: the load balancer answers every domain with the maintenance page.`;
  },
  "maintenance-off": async (deps, instanceId, actor) => {
    const r = await setMaintenance(deps, { instance: instanceId, actor, on: false });
    return r.active
      ? `${r.name} left maintenance: the load balancer sends its domains to its ${plural(r.active, "active appserver")}.`
      : `${r.name} left maintenance; no appserver is active, so the balancer answers the generic maintenance page until one is.`;
  },
  deactivate: async (deps, instanceId, actor) => {
    const r = await deactivateInstanceAppServers(deps, { instanceId, actor });
    return `Deactivated ${plural(r.deactivated.length, "appserver")}; the site stays in maintenance.`;
  },
  terminate: async (deps, instanceId, actor) => {
    const moved = await terminateInstanceAppServers(deps, { instanceId, actor });
    return `Terminated ${moved.map((m) => m.name).join(", ")}; their VMs are being deleted.`;
  },
  archive: async (deps, instanceId, actor) => {
    const r = await archiveInstance(deps, { instanceId, actor });
    return `${r.name} was archived: it launches nothing and its domains answer "no site here". An admin may delete it.`;
  },
};

const actorOf = (req: Request): Actor => ({ id: req.user!.id, login: req.user!.githubLogin });

export function decommissionRoutes(deps: Deps): Router {
  const router = Router();
  router.post("/instances/:id/decommission/:step", async (req, res, next) => {
    const name = String(req.params.step);
    if (!Object.hasOwn(STEPS, name)) return next();
    const step = STEPS[name]!;
    const instanceId = idOr404(req.params.id, "Instance");
    try {
      flash(req, "ok", await step(deps, instanceId, actorOf(req)));
    } catch (err) {
      // As for appserver actions: a refusal is told on the page; an unknown instance or a bug is an error page.
      if (!(err instanceof AppError) || err.code === "not_found" || err.code === "internal") throw err;
      flash(req, "error", err.message);
    }
    res.redirect(303, `/instances/${instanceId}#decommission`);
  });
  return router;
}
