import { Router } from "express";
import type { Deps } from "../../deps.js";

export function apiRoutes(_deps: Deps): Router {
  return Router();
}
