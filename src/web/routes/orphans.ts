// The Orphans page: VMs the providers have that no live appserver owns (DESIGN §10). A provider
// that cannot be listed is shown as such beside the others' VMs, never as a failed page.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { createProvisioningPorts } from "../../adapters/provisioning-ports.js";
import { findOrphans } from "../../domain/orphans/find-orphans.js";
import { renderPage } from "../render.js";

export function orphanRoutes(deps: Deps): Router {
  const router = Router();
  const ports = createProvisioningPorts(deps);
  router.get("/orphans", async (_req, res) => {
    const { orphans, failures } = await findOrphans(deps, ports);
    await renderPage(res, "orphans/list", { title: "Orphan VMs", orphans, failures, removeAfter: deps.config.ORPHAN_REMOVE_AFTER_HOURS });
  });
  return router;
}
