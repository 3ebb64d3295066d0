import { Router } from "express";
import type { Deps } from "../../deps.js";

export function accountRoutes(_deps: Deps): Router {
  return Router();
}
