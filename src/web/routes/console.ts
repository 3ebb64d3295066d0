// The console: the instance list on the left of every page, the selected instance on the right.
import { Router, type Request } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { listInstances } from "../../domain/instances/list-instances.js";
import { getInstance } from "../../domain/instances/get-instance.js";
import { maskVariablesYaml } from "../../domain/instances/mask-variables-yaml.js";
import { PREFIXED_DOMAIN_FIELDS, type PrefixedDomainField } from "../../domain/instances/domains.js";
import { renderPage } from "../render.js";
import { idOr404, parseQuery } from "./route-helpers.js";

/**
 * Rows in the sidebar; past that the operator narrows the search (10,000 rows would not help
 * anyone). 100 rather than 200: the badges cost two index lookups per row, and with 20 clients on
 * 2 cores halving the rows nearly halved the page's time (bench/pages.ts).
 */
export const SIDEBAR_LIMIT = 100;

// Browsers send what the search form has; other parameters (tracking, old bookmarks) are ignored.
const sidebarQuery = z.object({
  q: z.string().trim().max(200, "at most 200 characters").optional(),
  archived: z.enum(["1"], "use archived=1 to show archived instances").optional(),
});

async function loadSidebar(deps: Deps, req: Request) {
  const { q = "", archived } = parseQuery(sidebarQuery, req.query);
  const showArchived = archived === "1";
  const list = await listInstances(deps, { q, archived: showArchived ? "include" : "exclude", limit: SIDEBAR_LIMIT });
  // Only for the empty state: "nothing yet" and "all archived" call for different next steps.
  const hiddenArchived = list.total === 0 && !q && !showArchived
    ? (await listInstances(deps, { archived: "only", limit: 0 })).total
    : 0;
  return { ...list, hiddenArchived, filters: { q, archived: showArchived ? "1" : undefined } };
}

const DOMAIN_LABELS: Record<PrefixedDomainField, string> = {
  studioDomain: "Studio", previewDomain: "Preview", ecommerceDomain: "E-commerce", discoveryDomain: "Discovery", appsDomain: "Apps",
};

export function consoleRoutes(deps: Deps): Router {
  const router = Router();

  router.get("/", async (req, res) => {
    const sidebar = await loadSidebar(deps, req);
    await renderPage(res, "console/home", { title: "Instances", sidebar, selectedId: null });
  });

  router.get("/instances/:id", async (req, res) => {
    const id = idOr404(req.params.id, "Instance");
    const [sidebar, instance] = await Promise.all([loadSidebar(deps, req), getInstance(deps, { id })]);
    const domains = [
      { label: "LMS", domain: instance.internalLmsDomain },
      ...PREFIXED_DOMAIN_FIELDS.map((f) => ({ label: DOMAIN_LABELS[f], domain: instance[f] })),
      ...instance.externalDomains.map((domain) => ({ label: "External", domain })),
    ];
    await renderPage(res, "console/instance", {
      title: instance.name,
      sidebar,
      selectedId: instance.id,
      instance,
      domains,
      extraVariables: maskVariablesYaml(instance.extraAnsibleVars),
    });
  });

  return router;
}
