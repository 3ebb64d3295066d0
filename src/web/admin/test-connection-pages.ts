// "Test connection" on a provider account's page: runs the check (domain/providers/
// test-provider-account.ts) and comes back to the page with what it found, line by line.
import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { flash } from "../middleware.js";
import { testProviderAccount } from "../../domain/providers/test-provider-account.js";
import { providerAccountAdmin } from "./models/provider-accounts.js";
import { actorOf, idOf } from "./page-helpers.js";

export function testConnectionPages(deps: Deps) {
  return {
    async testSubmit(req: Request, res: Response) {
      const id = idOf(req, providerAccountAdmin);
      const result = await testProviderAccount(deps, { actor: actorOf(req), id });
      const head = result.ok ? `The connection test of "${result.name}" worked.` : `The connection test of "${result.name}" failed.`;
      flash(req, result.ok ? "ok" : "error", [head, ...result.lines].join("\n"));
      res.redirect(`/admin/provider-accounts/${id}`);
    },
  };
}
