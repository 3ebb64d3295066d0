// POST /webhooks/github: GitHub's deliveries for watched repositories (docs/pr-sandboxes.md). No
// session and no CSRF token: the signature is the authentication. It answers at once (GitHub gives
// up on a delivery after 10 s) and leaves the work to a job: 202 when a sync was queued, 200 for a
// ping, an event that changes nothing or an organization webhook's delivery for a repository not
// watched (signature verified), 401 for a signature missing or not verified (the same answer
// whether or not the repository is watched), JSON either way.
import express, { Router, type NextFunction, type Request, type Response } from "express";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { JOB } from "../../jobs/names.js";
import { verifyGithubWebhook } from "../../domain/sandboxes/verify-github-webhook.js";

// GitHub caps payloads at 25 MB (https://docs.github.com/en/webhooks/webhook-events-and-payloads#payload-cap).
const MAX_BODY = "25mb";

export function webhookRoutes(deps: Deps): Router {
  const router = Router();
  router.post("/webhooks/github", express.raw({ type: () => true, limit: MAX_BODY }), async (req, res) => {
    const delivery = (req.get("x-github-delivery") ?? "").replace(/[^A-Za-z0-9-]/g, "").slice(0, 64);
    const verdict = await verifyGithubWebhook(deps, {
      id: delivery,
      event: req.get("x-github-event") ?? "",
      signature: req.get("x-hub-signature-256") ?? "",
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    if ("ignored" in verdict) return void res.status(200).json({ ignored: verdict.ignored });
    // One job per delivery: GitHub's redelivery of the same one is a no-op in BullMQ.
    const { watchedRepositoryId, pullRequestNumber } = verdict.sync;
    await deps.jobs.enqueue(JOB.syncPullRequest, verdict.sync, {
      ...(delivery ? { jobId: `pr-${watchedRepositoryId}-${pullRequestNumber}-${delivery}` } : {}),
      // GitHub hiccups (5xx, rate limits) are retried; a refusal fails at once (src/jobs/retry.ts).
      attempts: 3, backoff: { type: "exponential", delay: deps.config.JOB_RETRY_DELAY_SECONDS * 1000 },
    });
    res.status(202).json({ queued: verdict.sync });
  });
  router.use("/webhooks", (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof AppError)) return next(err);
    res.status(err.status).json({ error: { code: err.code, message: err.message } });
  });
  return router;
}
