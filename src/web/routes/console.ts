// The console: the instance list on the left of every page, the selected instance on the right.
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { INSTANCE_STATES, listInstances, type InstanceState } from "../../domain/instances/list-instances.js";
import { getInstance } from "../../domain/instances/get-instance.js";
import { getFleetOverview } from "../../domain/fleet/get-fleet-overview.js";
import { revealInstanceSecrets } from "../../domain/instances/reveal-instance-secrets.js";
import { maskedSettings, type MaskedSettings } from "../../domain/secrets/instance-secrets.js";
import { PREFIXED_DOMAIN_FIELDS, type PrefixedDomainField } from "../../domain/instances/domains.js";
import { decommissionOf } from "../../domain/instances/get-decommission.js";
import { defaultMysqlService, whyNoMysql } from "../../domain/data/why-no-mysql.js";
import { checkInstanceData } from "../../domain/data/check-instance-data.js";
import { previewLaunch } from "../../domain/recipes/preview-launch.js";
import { tutorVersionFor } from "../../domain/recipes/recipe-release.js";
import { RECIPES } from "../../domain/recipes/recipe.js";
import { providerOsProblem } from "../../domain/recipes/recipe-os.js";
import { flash } from "../middleware.js";
import { renderPage } from "../render.js";
import { randomUUID } from "node:crypto";
import { sharedRead } from "../shared-read.js";
import { idOr404, parseQuery } from "./route-helpers.js";

/**
 * Rows in the sidebar; past that the operator narrows the search (10,000 rows would not help
 * anyone). 100 rather than 200: the badges cost two index lookups per row, and with 20 clients on
 * 2 cores halving the rows nearly halved the page's time (bench/pages.ts).
 */
export const SIDEBAR_LIMIT = 100;

/** The sidebar's state filters, as its links name them. */
export const STATE_LABELS: Record<InstanceState, string> = { failing: "Failing", provisioning: "Provisioning", "no-active": "No active appserver" };

// Browsers send what the search form has; other parameters (tracking, old bookmarks) are ignored.
const sidebarQuery = z.object({
  q: z.string().trim().max(200, "at most 200 characters").optional(),
  archived: z.enum(["1"], "use archived=1 to show archived instances").optional(),
  state: z.enum(INSTANCE_STATES, `one of ${INSTANCE_STATES.join(", ")}`).optional(),
  // Past 10,000 pages a person searches instead; the bound keeps OFFSET cheap.
  page: z.coerce.number("a page number").int("a page number").min(1, "pages start at 1").max(10_000, "at most 10000").optional(),
});

interface SidebarFilters {
  q: string;
  showArchived: boolean;
  state?: InstanceState;
  page: number;
}

async function readSidebar(deps: Deps, f: SidebarFilters) {
  const archived = f.showArchived ? "include" : "exclude";
  const list = await listInstances(deps, { q: f.q, archived, state: f.state, limit: SIDEBAR_LIMIT, offset: (f.page - 1) * SIDEBAR_LIMIT, prepare: true });
  // Only for the empty state: "nothing yet" and "all archived" call for different next steps.
  const hiddenArchived = list.total === 0 && !f.q && !f.state && !f.showArchived
    ? (await listInstances(deps, { archived: "only", limit: 0 })).total
    : 0;
  return { ...list, hiddenArchived, offset: (f.page - 1) * SIDEBAR_LIMIT };
}

/**
 * The sidebar without a search is the same for everyone on every page: shared by the requests of
 * SIDEBAR_CACHE_MS (sharedRead). A search, a state filter or a later page is read each time.
 */
function sidebarReader(deps: Deps) {
  const shared = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, (showArchived: boolean) => readSidebar(deps, { q: "", showArchived, page: 1 }));
  return async (req: Request) => {
    const { q = "", archived, state, page = 1 } = parseQuery(sidebarQuery, req.query);
    const showArchived = archived === "1";
    // What the sidebar's links keep (the page number is the pager's own).
    const filters = { q, archived: showArchived ? "1" : undefined, state };
    const sidebar = q || state || page > 1 ? readSidebar(deps, { q, showArchived, state, page }) : shared(showArchived);
    return { ...(await sidebar), filters, page, stateLabels: STATE_LABELS };
  };
}

const DOMAIN_LABELS: Record<PrefixedDomainField, string> = {
  studioDomain: "Studio", previewDomain: "Preview", ecommerceDomain: "E-commerce", discoveryDomain: "Discovery", appsDomain: "Apps",
};

export function consoleRoutes(deps: Deps): Router {
  const router = Router();
  const loadSidebar = sidebarReader(deps);
  // The fleet home's panels, shared like the sidebar: they read across the whole fleet.
  const loadFleet = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, () => getFleetOverview(deps));
  // Whether a default MySQL server exists, for instances without one: fleet settings, shared the same way.
  const loadDefaultMysql = sharedRead(deps.now, deps.config.SIDEBAR_CACHE_MS, () => defaultMysqlService(deps));

  // A page that follows the whole fleet (the home's panels, the list on the left) hears of a change
  // at once; what it reads again may be shared reads up to two SIDEBAR_CACHE_MS old (shared-read.ts):
  // it waits that long, so they hold the change.
  const liveDelayMs = 2 * deps.config.SIDEBAR_CACHE_MS + 100;

  router.get("/", async (req, res) => {
    const [sidebar, fleet] = await Promise.all([loadSidebar(req), loadFleet(undefined)]);
    // Read again at its own address: the list on the left as searched, filtered and paged.
    await renderPage(res, "console/home", { title: "Fleet", sidebar, selectedId: null, fleet, liveDelayMs, liveUrl: req.originalUrl });
  });

  /** The instance page; its secret settings masked unless `revealed` holds them (an admin's audited reveal). */
  async function instancePage(req: Request, res: Response, id: number, revealed?: MaskedSettings) {
    const [sidebar, instance] = await Promise.all([loadSidebar(req), getInstance(deps, { id })]);
    const { data, certificate, live } = instance.panels;
    const decommission = decommissionOf(instance, live);
    // Without a MySQL server, and none to choose: say why, with the step that turns it on.
    const mysqlOff = data.some((d) => d.kind === "mysql" && !d.service) && !(await loadDefaultMysql(undefined)) ? whyNoMysql() : null;
    const domains = [
      { label: "LMS", domain: instance.internalLmsDomain },
      ...PREFIXED_DOMAIN_FIELDS.map((f) => ({ label: DOMAIN_LABELS[f], domain: instance[f] })),
      ...instance.externalDomains.map((domain) => ({ label: "External", domain })),
    ];
    const shown = revealed ?? maskedSettings(instance);
    await renderPage(res, "console/instance", {
      title: instance.name,
      sidebar,
      selectedId: instance.id,
      instance,
      domains,
      recipeLabel: RECIPES[instance.recipe].label,
      tutorVersion: tutorVersionFor(instance.recipe, instance.openedxRelease),
      // The launch refuses the same (launchAppServer); the page says so before anyone clicks.
      launchOsProblem: providerOsProblem(instance.recipe, instance.providerKind, deps.hostOs),
      extraVariables: shown.extraVariables,
      bootstrapCommand: shown.bootstrapCommand,
      revealed: Boolean(revealed),
      data,
      certificate,
      decommission,
      acmeOff: !deps.config.ACME_DIRECTORY_URL,
      mysqlOff,
      liveDelayMs,
      now: deps.now(),
      // One per page view: submitting this form twice (a double click, a resend) launches once.
      launchToken: randomUUID(),
    });
  }

  router.get("/instances/:id", async (req, res) => {
    await instancePage(req, res, idOr404(req.params.id, "Instance"));
  });

  // Reads only (a READ ONLY transaction), so a link any operator may follow; secrets masked for all.
  router.get("/instances/:id/preview-launch", async (req, res) => {
    const id = idOr404(req.params.id, "Instance");
    const [sidebar, preview] = await Promise.all([loadSidebar(req), previewLaunch(deps, { instance: id })]);
    // What the instance page says where Launch is: a launch now would be refused for it (launch-appserver.ts).
    const launchOsProblem = providerOsProblem(preview.recipe, preview.providerKind, deps.hostOs);
    await renderPage(res, "console/preview-launch", { title: `Preview launch · ${preview.instance.name}`, sidebar, selectedId: id, preview, launchOsProblem });
  });

  // A POST, so that a reveal is never a link that can be followed, prefetched or kept in a history.
  router.post("/instances/:id/reveal-secrets", async (req, res) => {
    const id = idOr404(req.params.id, "Instance");
    const revealed = await revealInstanceSecrets(deps, { id, user: req.user! });
    res.set("Cache-Control", "no-store");
    await instancePage(req, res, id, revealed);
  });

  // Any operator may check: the answer holds names, statuses and sizes, never a credential.
  router.post("/instances/:id/check-data", async (req, res) => {
    const id = idOr404(req.params.id, "Instance");
    await getInstance(deps, { id });
    const result = await checkInstanceData(deps, { instanceId: id, actor: { id: req.user!.id, login: req.user!.githubLogin } });
    flash(req, result.ok ? "ok" : "error", `Checked: ${result.lines.join(" ")}`);
    res.redirect(`/instances/${id}#data-title`);
  });

  return router;
}
