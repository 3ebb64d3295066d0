import { Router } from "express";
import type { Deps } from "../../deps.js";
import { requireAdmin } from "../middleware.js";

export function adminRoutes(_deps: Deps): Router {
  const router = Router();
  router.use(requireAdmin);
  return router;
}
