import { Router } from "express";
import type { Deps } from "../../deps.js";
import { renderPage } from "../render.js";

export function consoleRoutes(_deps: Deps): Router {
  const router = Router();
  router.get("/", async (_req, res) => renderPage(res, "console/home", { title: "Instances" }));
  return router;
}
