// The admin area (DESIGN §13): one generic engine for every registered model (registry.ts).
// Admins only: requireAdmin runs before every route, so anyone else gets 403 on every URL.
import { Router } from "express";
import type { Deps } from "../../deps.js";
import { redirectKeepingFlash, requireAdmin } from "../middleware.js";
import { deletePages } from "./delete-pages.js";
import { formPages } from "./form-pages.js";
import { keptDataPages } from "./kept-data-pages.js";
import { certificatePages } from "./certificate-pages.js";
import { hostKeyPages } from "./host-key-pages.js";
import { testConnectionPages } from "./test-connection-pages.js";
import { listPages } from "./list-pages.js";
import { notificationPages } from "./notification-pages.js";

export function adminRoutes(deps: Deps): Router {
  const router = Router();
  router.use(requireAdmin);
  const lists = listPages(deps);
  const forms = formPages(deps);
  const deletes = deletePages(deps);
  const kept = keptDataPages(deps);
  const certificates = certificatePages(deps);
  const hostKeys = hostKeyPages(deps);
  const notifications = notificationPages(deps);
  router.get("/kept-data/owner/:owner", kept.ownerPage);
  router.post("/kept-data/owner/:owner/drop", kept.dropSubmit);
  router.get("/instances/:id/certificate", certificates.uploadPage);
  router.post("/instances/:id/certificate", certificates.uploadSubmit);
  router.get("/load-balancers/:id/host-key", hostKeys.page);
  router.post("/load-balancers/:id/host-key", hostKeys.clearSubmit);
  router.post("/provider-accounts/:id/test", testConnectionPages(deps).testSubmit);
  router.post("/notification-channels/:id/test", notifications.testSubmit);
  router.get("/", lists.indexPage);
  router.get("/:model", lists.listPage);
  router.post("/:model/bulk", deletes.bulkAction);
  router.get("/:model/add", forms.addPage);
  router.post("/:model/add", forms.addSubmit);
  router.get("/:model/:id", forms.objectPage);
  router.post("/:model/:id", forms.changeSubmit);
  router.get("/:model/:id/delete", deletes.deletePage);
  router.post("/:model/:id/delete", deletes.deleteSubmit);
  router.post("/:model/:id/delete-data", deletes.deleteDataSubmit);
  router.get("/:model/:id/history", lists.historyPage);
  // The change form's address in Django's admin, which the console linked to: bookmarks keep working.
  router.get("/:model/:id/change", (req, res) => redirectKeepingFlash(req, res, `/admin/${encodeURIComponent(req.params.model)}/${encodeURIComponent(req.params.id)}`));
  return router;
}
