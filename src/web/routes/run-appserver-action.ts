// The page and the API run appserver actions the same way: in the request. The command checks the
// rules and commits the change (its lifecycle transition queues the slow follow-ups through the
// outbox: balancer apply, VM delete), so the answer is the command's own message, and a refusal
// keeps its code (404 unknown, 409 rule or state, 503 dependency down).
import type { Deps } from "../../deps.js";
import type { Actor } from "../../domain/audit/record-audit-event.js";
import { activateAppServer, deactivateAppServer } from "../../domain/appservers/activation.js";
import { terminateAppServer } from "../../domain/appservers/terminate-appserver.js";
import { plural } from "../admin/models/common.js";

export const ACTIONS = {
  activate: async (deps, input) => {
    await activateAppServer(deps, input);
    return "Activated.";
  },
  "activate-exclusively": async (deps, input) => {
    const result = await activateAppServer(deps, { ...input, deactivateOthers: true });
    if (!result.deactivated.length) return "Activated.";
    const names = result.deactivatedNames;
    return `Activated; ${plural(names.length, "other appserver")} deactivated: ${names.join(", ")}.`;
  },
  deactivate: async (deps, input) => {
    await deactivateAppServer(deps, input);
    return "Deactivated.";
  },
  terminate: async (deps, input) => {
    await terminateAppServer(deps, input);
    return "Terminated; the VM is being deleted.";
  },
} satisfies Record<string, (deps: ActionDeps, input: { appServerId: number; actor: Actor }) => Promise<string>>;

type ActionDeps = Pick<Deps, "db" | "secrets" | "now">;
export type ActionName = keyof typeof ACTIONS;

/** Runs one action; returns its message, or throws the command's AppError. */
export function runAppServerAction(deps: ActionDeps, name: ActionName, input: { appServerId: number; actor: Actor }): Promise<string> {
  return ACTIONS[name](deps, input);
}
