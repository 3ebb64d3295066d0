// Release roll-outs (docs/rollouts.md): the list, the form that chooses instances and previews
// them (a GET, so the preview is a link and a reload), the confirmed start (a POST), the progress
// page and its Pause / Resume / Cancel. Each handler parses, calls one command, renders or redirects.
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { Deps } from "../../deps.js";
import { AppError, type FieldErrors } from "../../errors.js";
import type { Actor } from "../../domain/audit/record-audit-event.js";
import { listTags } from "../../domain/instances/list-tags.js";
import { FILTER_FIELDS, MAX_WAVE_SIZE, readRolloutFilter, readRolloutInput, type RolloutTarget } from "../../domain/rollouts/rollout-input.js";
import { PREVIEW_LIMIT, selectRolloutInstances } from "../../domain/rollouts/select-instances.js";
import { startRollout } from "../../domain/rollouts/start-rollout.js";
import { rolloutTargetProblem } from "../../domain/rollouts/check-rollout-target.js";
import { getRollout, listRollouts } from "../../domain/rollouts/get-rollout.js";
import { controlRollout, type RolloutControl } from "../../domain/rollouts/control-rollout.js";
import { flash } from "../middleware.js";
import { renderPage } from "../render.js";
import { idOr404, parseQuery } from "./route-helpers.js";

const FORM_FIELDS = [...FILTER_FIELDS, "target", "targetRelease", "targetEdxPlatformBranch", "targetConfigurationBranch", "waveSize", "failureThreshold"] as const;
/** What a new form starts with: small waves, and a pause once more than one in five fails. */
const DEFAULTS: Record<(typeof FORM_FIELDS)[number], string> = {
  release: "", tag: "", loadBalancerId: "", q: "", target: "current", targetRelease: "", targetEdxPlatformBranch: "", targetConfigurationBranch: "",
  waveSize: "2", failureThreshold: "0.2",
};

// The form's own fields, plus `review` (the Review button); anything else is refused by name.
const formQuery = z.object({
  ...Object.fromEntries(FORM_FIELDS.map((f) => [f, z.string().max(300, "at most 300 characters").optional()])) as Record<(typeof FORM_FIELDS)[number], z.ZodOptional<z.ZodString>>,
  review: z.enum(["1"]).optional(),
}).strict();

const CONTROLS = new Set<RolloutControl>(["pause", "resume", "cancel"]);
const actorOf = (req: Request): Actor => ({ id: req.user!.id, login: req.user!.githubLogin });

export function rolloutRoutes(deps: Deps): Router {
  const router = Router();

  router.get("/rollouts", async (_req, res) => {
    await renderPage(res, "rollouts/list", { title: "Roll-outs", rollouts: await listRollouts(deps, { limit: 50 }) });
  });

  /** The form with the instances its filters choose; a review also checks every other field. */
  async function formPage(res: Response, values: Record<string, string>, review: boolean, given: { errors?: FieldErrors; message?: string; status?: number } = {}) {
    const errors: FieldErrors = { ...given.errors };
    let preview = null;
    let target: RolloutTarget | null = null;
    try {
      preview = await selectRolloutInstances(deps.db, readRolloutFilter(values), PREVIEW_LIMIT);
    } catch (err) {
      if (!(err instanceof AppError && err.code === "validation")) throw err;
      Object.assign(errors, err.details.fields);
    }
    if (review && !given.errors) {
      try {
        const input = readRolloutInput(values);
        target = input.target;
        const ids = target.kind === "release" ? (await selectRolloutInstances(deps.db, input.filter)).rows.map((r) => r.id) : [];
        const unsuited = await rolloutTargetProblem(deps.db, deps.config, ids, target);
        if (unsuited) errors.targetRelease = unsuited;
      } catch (err) {
        if (!(err instanceof AppError && err.code === "validation")) throw err;
        Object.assign(errors, err.details.fields);
      }
    }
    const [tags, balancers] = await Promise.all([listTags(deps), deps.db.loadBalancer.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 500 })]);
    const ready = review && Object.keys(errors).length === 0 && !given.message && (preview?.total ?? 0) > 0;
    const status = given.status ?? (Object.keys(errors).length ? 400 : 200);
    await renderPage(res, "rollouts/new", { title: "Roll out", values, target, errors, message: given.message ?? null, preview, tags, balancers, ready, maxWaveSize: MAX_WAVE_SIZE }, status);
  }

  router.get("/rollouts/new", async (req, res) => {
    const { review, ...given } = parseQuery(formQuery, req.query);
    await formPage(res, { ...DEFAULTS, ...given }, review === "1");
  });

  router.post("/rollouts", async (req, res) => {
    const values = Object.fromEntries(FORM_FIELDS.map((f) => [f, typeof req.body[f] === "string" ? req.body[f] : ""]));
    try {
      // Setting a release edits the instances' settings, which only admins do (the admin's form).
      if (values.target === "release" && req.user!.role !== "admin") {
        throw new AppError("rule", "Only admins may roll out a release (it changes each instance's settings); roll out on the current settings, or ask an admin.");
      }
      const rollout = await startRollout(deps, { actor: actorOf(req), values });
      flash(req, "ok", `Roll-out #${rollout.id} started: the first wave is launching.`);
      res.redirect(303, `/rollouts/${rollout.id}`);
    } catch (err) {
      if (!(err instanceof AppError) || (err.code !== "validation" && err.code !== "rule")) throw err;
      const fields = err.details.fields;
      await formPage(res, values, true, { ...(fields ? { errors: fields } : { message: err.message }), status: err.status });
    }
  });

  router.get("/rollouts/:id", async (req, res) => {
    const rollout = await getRollout(deps, { id: idOr404(req.params.id, "Roll-out") });
    await renderPage(res, "rollouts/show", { title: `Roll-out #${rollout.id}`, rollout, now: deps.now() });
  });

  router.post("/rollouts/:id/:action", async (req, res, next) => {
    const action = String(req.params.action) as RolloutControl;
    if (!CONTROLS.has(action)) return next();
    const rolloutId = idOr404(req.params.id, "Roll-out");
    try {
      await controlRollout(deps, { rolloutId, action, actor: actorOf(req) });
      flash(req, "ok", { pause: "Paused: no new wave starts; launches under way still finish.", resume: "Resumed: the next wave is launching.", cancel: "Cancelled: nothing more is launched or activated." }[action]);
    } catch (err) {
      if (!(err instanceof AppError) || err.code === "not_found") throw err;
      flash(req, "error", err.message);
    }
    res.redirect(303, `/rollouts/${rolloutId}`);
  });

  return router;
}
