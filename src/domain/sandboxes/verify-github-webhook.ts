// Checks a webhook delivery from GitHub (docs/pr-sandboxes.md) and says which pull request to sync.
// GitHub signs the raw body with HMAC-SHA256 under the webhook's secret and sends it in
// X-Hub-Signature-256 ("sha256=<hex>"); the check runs over the exact bytes received, in constant
// time, by @octokit/webhooks (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
// Each watched repository has its own secret, so the repository is read from the body first, and
// nothing in it is trusted until the signature matched.
// An unauthenticated caller learns nothing about which repositories are watched: an unknown
// repository, one without a secret and a wrong signature get the same 401, and the reason goes to
// the log (sandbox.webhook_refused) with the delivery's id, which GitHub's "Recent Deliveries" shows.
// An organization's webhook sends the pull requests of every repository of the organization, signed
// with its one secret, which its watched repositories here share (docs/pr-sandboxes.md): a delivery
// for one of its other repositories that this secret verifies is GitHub's, and is answered 2xx
// ("repository not watched") and ignored, since GitHub lists any other answer as a failed delivery
// (https://docs.github.com/en/webhooks/using-webhooks/handling-webhook-deliveries: answer 2xx).
import { Webhooks } from "@octokit/webhooks";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";

/** The one answer to a signature not verified, whatever the reason (logged): says nothing of what this console watches. */
const UNVERIFIED = "The X-Hub-Signature-256 signature could not be verified; nothing was done. The reason is in the console's log (sandbox.webhook_refused, with this delivery's id).";

// GitHub sends the legacy SHA-1 X-Hub-Signature beside it; SHA-256 is the one it advises checking.
const MISSING = "The delivery has no X-Hub-Signature-256 header: give the webhook a secret on GitHub. Only SHA-256 signatures are accepted, not the legacy SHA-1 X-Hub-Signature; nothing was done.";

/** The pull_request actions that change a sandbox (https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request). */
const SYNCED_ACTIONS = new Set(["opened", "reopened", "synchronize", "closed"]);

export type WebhookVerdict =
  | { sync: { watchedRepositoryId: number; pullRequestNumber: number } }
  | { ignored: string };

export interface WebhookDelivery {
  /** X-GitHub-Delivery, for the log. */
  id: string;
  /** X-GitHub-Event: "pull_request", "ping", … */
  event: string;
  /** X-Hub-Signature-256. */
  signature: string;
  rawBody: Buffer;
}

interface DeliveryBody {
  action?: unknown;
  number?: unknown;
  repository?: { full_name?: unknown };
}

export async function verifyGithubWebhook(deps: Pick<Deps, "db" | "secrets" | "log">, delivery: WebhookDelivery): Promise<WebhookVerdict> {
  const text = delivery.rawBody.toString("utf8");
  let body: DeliveryBody;
  try {
    body = JSON.parse(text) as DeliveryBody;
  } catch {
    throw new AppError("bad_request", "The body is not JSON: set the webhook's content type to application/json.");
  }
  const fullName = typeof body?.repository?.full_name === "string" ? body.repository.full_name.toLowerCase() : "";
  // An organization's webhook pings without a repository (only zen, hook_id and hook are always
  // there: https://docs.github.com/en/webhooks/webhook-events-and-payloads#ping), so there is no
  // secret to check it with; it asks for nothing, and a refusal would show the new webhook failing.
  if (delivery.event === "ping" && !fullName) {
    return { ignored: "ping without a repository (an organization's webhook): nothing to do; each pull request's delivery is checked with its repository's secret" };
  }
  const refuse = (reason: string, message = UNVERIFIED): AppError => {
    // Cut: the name comes from anyone's body, and GitHub's are at most 140 characters (owner/name).
    deps.log.warn({ delivery: delivery.id, event: delivery.event, repository: fullName.slice(0, 140) || null, reason: reason.slice(0, 300) }, "sandbox.webhook_refused");
    return new AppError("unauthenticated", message);
  };
  // Said as it is, before the repository is looked up: it depends on the request alone.
  if (!delivery.signature) throw refuse("no X-Hub-Signature-256 header", MISSING);
  const [owner = "", name = ""] = fullName.split("/");
  const repo = owner && name ? await deps.db.watchedRepository.findUnique({ where: { owner_name: { owner, name } }, select: { id: true, webhookSecretEncrypted: true } }) : null;
  const verifies = (secretEncrypted: string) => new Webhooks({ secret: deps.secrets.decrypt(secretEncrypted) }).verify(text, delivery.signature).catch(() => false);
  if (!repo) {
    if (!fullName) throw refuse("the delivery names no repository");
    const organization = owner ? await deps.db.watchedRepository.findMany({ where: { owner, webhookSecretEncrypted: { not: "" } }, select: { webhookSecretEncrypted: true } }) : [];
    for (const { webhookSecretEncrypted } of organization) if (await verifies(webhookSecretEncrypted)) return { ignored: "repository not watched" };
    throw refuse(`this console does not watch ${fullName}${organization.length ? ` (nor does the signature match the webhook secret of ${owner}'s watched repositories)` : ""}`);
  }
  if (!repo.webhookSecretEncrypted) throw refuse(`no webhook secret is set for ${fullName} in this console (Admin → Watched repositories)`);
  if (!(await verifies(repo.webhookSecretEncrypted))) throw refuse(`the signature does not match ${fullName}'s webhook secret`);
  if (delivery.event === "ping") return { ignored: "ping" };
  if (delivery.event !== "pull_request") return { ignored: `the ${delivery.event || "unnamed"} event is not used` };
  const action = String(body.action ?? "");
  if (!SYNCED_ACTIONS.has(action)) return { ignored: `the pull_request action "${action}" changes no sandbox` };
  const number = Number(body.number);
  if (!Number.isInteger(number) || number < 1) throw new AppError("bad_request", "The delivery names no pull request number.");
  return { sync: { watchedRepositoryId: repo.id, pullRequestNumber: number } };
}
