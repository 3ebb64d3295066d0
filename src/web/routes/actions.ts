// Console actions posted from forms: launch an appserver, make the demo instance. Each parses,
// authorizes, calls one command, then redirects with a message (STYLE 2).
import { Router, type Request } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { launchAppServer } from "../../domain/appservers/launch-appserver.js";
import { appServerPagePath, appServerPathById } from "../../domain/appservers/locate-appserver.js";
import { cancelAppServer } from "../../domain/appservers/cancel-appserver.js";
import { relaunchAppServer } from "../../domain/appservers/relaunch-appserver.js";
import { runAppServerAction, ACTIONS, type ActionName } from "./run-appserver-action.js";
import { createDemoInstance } from "../../domain/instances/create-demo-instance.js";
import { flash } from "../middleware.js";
import { idOr404 } from "./route-helpers.js";
import type { StepName } from "../../domain/provisioning/steps.js";

const actorOf = (req: Request) => ({ id: req.user!.id, login: req.user!.githubLogin });

const LAUNCH_TOKEN_RE = /^[A-Za-z0-9_-]{16,100}$/;

/**
 * The launch form's one-time token as a launch key. A form without one (a page from before the
 * token existed, a script posting the form) launches without a key, as it always did.
 */
function launchKeyOf(body: Record<string, unknown> | undefined): string | undefined {
  const token = body?.launchToken;
  if (token === undefined) return undefined;
  if (typeof token !== "string" || !LAUNCH_TOKEN_RE.test(token)) {
    throw new AppError("bad_request", "This launch form is damaged or out of date. Reload the page and try again; nothing was launched.");
  }
  return `form:${token}`;
}

/**
 * Runs an appserver action and keeps its message for the appserver's page. A refusal (a rule, the
 * state, a dependency down) is told there too; an unknown appserver or a bug goes to the error
 * page with its own status.
 */
async function onAppServerPage(req: Request, action: () => Promise<string>): Promise<void> {
  try {
    flash(req, "ok", await action());
  } catch (err) {
    if (!(err instanceof AppError) || err.code === "not_found" || err.code === "internal") throw err;
    flash(req, "error", err.message);
  }
}

/** What the cancel stops, by the step it stopped: the playbook runs only in start-playbook and tail. */
function cancelledMessage(step: StepName | null): string {
  if (step === "start-playbook" || step === "tail") return "Provisioning was cancelled; the playbook is being stopped. The VM is kept for debugging.";
  if (step === "finish" || step === "wait-heartbeat") {
    return "Provisioning was cancelled; the playbook had already finished, so only the wait for /heartbeat is stopped. The VM is kept for debugging.";
  }
  if (step === "upload-vars" || step === "clone") return "Provisioning was cancelled before the playbook started. The VM is kept for debugging.";
  return "Provisioning was cancelled before the VM was ready.";
}

export function actionRoutes(deps: Deps): Router {
  const router = Router();

  router.post("/instances/:id/launch", async (req, res) => {
    const instanceId = idOr404(req.params.id, "Instance");
    const as = await launchAppServer(deps, { instanceId, actor: actorOf(req), launchKey: launchKeyOf(req.body) });
    flash(req, "ok", as.replayed
      ? `This form had already launched ${as.name}; it was not launched a second time.`
      : `${as.name} was launched: its VM is being created, then the playbook runs. Follow the log below.`);
    res.redirect(303, appServerPagePath(as));
  });

  // A page opened before the appserver finished still offers Cancel: the refusal is told there.
  router.post("/appservers/:id/cancel", async (req, res) => {
    const appServerId = idOr404(req.params.id, "AppServer");
    await onAppServerPage(req, async () => {
      const { step } = await cancelAppServer(deps, { appServerId, actor: actorOf(req) });
      return cancelledMessage(step);
    });
    res.redirect(303, await appServerPathById(deps, { id: appServerId }));
  });

  // A refusal (not failed, the provisioning cap) is told on the failed appserver's page.
  router.post("/appservers/:id/relaunch", async (req, res) => {
    const appServerId = idOr404(req.params.id, "AppServer");
    try {
      const as = await relaunchAppServer(deps, { appServerId, actor: actorOf(req), launchKey: launchKeyOf(req.body) });
      flash(req, "ok", as.replayed
        ? `This form had already relaunched as ${as.name}; it was not launched a second time.`
        : `${as.name} was launched with the instance's current settings. Follow its log below.`);
      res.redirect(303, appServerPagePath(as));
    } catch (err) {
      if (!(err instanceof AppError) || err.code === "not_found" || err.code === "internal") throw err;
      flash(req, "error", err.message);
      res.redirect(303, await appServerPathById(deps, { id: appServerId }));
    }
  });

  router.post("/appservers/:id/:action", async (req, res, next) => {
    const action = req.params.action as ActionName;
    if (!Object.hasOwn(ACTIONS, action)) return next();
    const appServerId = idOr404(req.params.id, "AppServer");
    await onAppServerPage(req, () => runAppServerAction(deps, action, { appServerId, actor: actorOf(req) }));
    res.redirect(303, await appServerPathById(deps, { id: appServerId }));
  });

  router.post("/demo", async (req, res) => {
    if (req.user?.role !== "admin") throw new AppError("forbidden", "Only admins may create instances.");
    const instance = await createDemoInstance(deps, { actor: actorOf(req) });
    flash(req, "ok", `The demo instance "${instance.name}" was created. Launch an appserver to try the whole flow on this machine. ${instance.dataNote}`);
    res.redirect(303, `/instances/${instance.id}`);
  });

  return router;
}
