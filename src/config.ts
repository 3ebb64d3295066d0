// The only reader of process.env (STYLE 1). Validated once at boot, then frozen. Every setting
// is listed with its default and meaning in .env.example and in README.md's settings table (tests keep both
// complete); a wrong one stops the boot with a list.
import path from "node:path";
import cron from "node-cron";
import { z } from "zod";
import packageJson from "../package.json" with { type: "json" };
import { recipeReleaseProblem } from "./domain/recipes/recipe-release.js";
import { LATEST_RELEASE, releaseBranch } from "./domain/recipes/releases.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const logins = z
  .string()
  .transform((v) => v.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,38})$/, "a comma-separated list of GitHub logins")));
const httpUrl = z.url({ protocol: /^https?$/, error: "an http(s) URL" });

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("127.0.0.1"),
  // `npm run web` forks this many processes sharing PORT (node:cluster), as gunicorn runs workers.
  WEB_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  PUBLIC_URL: httpUrl.optional(),
  DATA_DIR: z.string().default(".data"),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "a postgresql:// URL").optional(),
  // A database that accepts TCP but does not answer: a page gives up on a new connection after this
  // long (503), and PostgreSQL cancels any statement running longer than the second (0 = no limit).
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  // The one-object pages' reads (and the lists' first pages: readPage) as named prepared
  // statements (readJson in src/db.ts). Off by default:
  // a pooler in transaction mode that does not keep them (PgBouncer before 1.21) loses them.
  DATABASE_PREPARED_STATEMENTS: bool.default(false),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "a redis:// URL").optional(),
  // A request (a page's session, an enqueue) waits this long for Redis, then answers 503.
  REDIS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(1500),
  SECRET_KEY: z.string().min(32).optional(),
  // The key SECRET_KEY replaced: still decrypts, until `ocim reseal-secrets` has re-encrypted.
  SECRET_KEY_PREVIOUS: z.string().min(32).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  GITHUB_CLIENT_ID: z.string().optional(),
  GITHUB_CLIENT_SECRET: z.string().optional(),
  GITHUB_URL: httpUrl.default("https://github.com"),
  GITHUB_API_URL: httpUrl.default("https://api.github.com"),
  GITHUB_ORG: z.string().regex(/^[A-Za-z0-9-]+$/, "a GitHub organization name").optional(),
  GITHUB_TOKEN: z.string().optional(),
  // GET /metrics (Prometheus): unset = loopback callers only; set = `Authorization: Bearer <it>`.
  METRICS_TOKEN: z.string().min(16).optional(),
  // A worker or scheduler run alone serves its own /metrics on this port (127.0.0.1 unless
  // METRICS_BIND); unset = not served. The web process serves it on PORT.
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  METRICS_BIND: z.string().default("127.0.0.1"),
  ADMIN_GITHUB_LOGINS: logins.default([]),
  SESSION_MAX_AGE_HOURS: z.coerce.number().positive().default(12),
  SECURE_COOKIES: bool.optional(),
  LOGIN_LINK_MINUTES: z.coerce.number().int().positive().default(60),
  // New instances' recipe (src/domain/recipes/, docs/recipes.md) and release. Blank branches of an
  // instance follow its release (open-release/<name>.master, release/<name> from Teak); these two
  // branch settings are for a release Ocim does not know (a custom recipe's own ref).
  DEFAULT_RECIPE: z.enum(["tutor", "native", "custom"]).default("tutor"),
  DEFAULT_OPENEDX_RELEASE: z.string().default(LATEST_RELEASE.name),
  DEFAULT_CONFIGURATION_REPO_URL: z.string().default("https://github.com/openedx/configuration.git"),
  // openedx/configuration is archived; its last release branch is Quince's (master no longer builds).
  DEFAULT_CONFIGURATION_BRANCH: z.string().default("open-release/quince.master"),
  DEFAULT_PLAYBOOK_PATH: z.string().default("playbooks/openedx_native.yml"),
  DEFAULT_EDX_PLATFORM_REPO_URL: z.string().default("https://github.com/openedx/edx-platform.git"),
  DEFAULT_EDX_PLATFORM_BRANCH: z.string().default(releaseBranch(LATEST_RELEASE)),
  ADMIN_PAGE_SIZE: z.coerce.number().int().min(5).max(500).default(50),
  SIDEBAR_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  VM_READY_TIMEOUT_MINUTES: z.coerce.number().positive().default(20),
  PLAYBOOK_LINE_TIMEOUT_MINUTES: z.coerce.number().positive().default(120),
  PLAYBOOK_TIMEOUT_MINUTES: z.coerce.number().positive().default(180),
  // After the playbook succeeded: how long /heartbeat may take to answer 200 before the appserver fails.
  HEARTBEAT_TIMEOUT_MINUTES: z.coerce.number().positive().default(15),
  PROVISIONING_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(20),
  // Provisioning retries infrastructure hiccups this many times, waiting this long (doubling).
  PROVISIONING_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  // Appservers of one instance that may be provisioning (new, waiting, configuring) at once;
  // a launch beyond it is refused, so a script in a loop cannot start a VM per call.
  MAX_PROVISIONING_PER_INSTANCE: z.coerce.number().int().min(1).max(50).default(3),
  JOB_RETRY_DELAY_SECONDS: z.coerce.number().min(0).max(3600).default(15),
  // Key prefix of the job queues in Redis: consoles sharing one Redis need different ones.
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, - and _").default("ocim"),
  // How long a provisioning job's lock lives without renewal; a worker that died loses its
  // job to another after about this long.
  JOB_LOCK_SECONDS: z.coerce.number().int().min(5).max(600).default(30),
  // The outbox relay sends at each commit's NOTIFY; this sweep catches one missed while its
  // connection was down (docs/provisioning.md).
  OUTBOX_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3600).default(5),
  // The reconciler resumes a provisioning appserver whose job has been gone (missing, failed,
  // completed) for this long: a grace for the job's own failure handler to finish first.
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  // Local provider: each VM is an sshd on <prefix>.N (N = 2…254), all on this port (0: a free port each).
  LOCAL_VM_ADDRESS_PREFIX: z
    .string()
    .regex(/^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)$/, "the first three numbers of a loopback address, e.g. 127.0.0")
    .default("127.0.0"),
  LOCAL_VM_SSH_PORT: z.coerce.number().int().min(0).max(65535).default(22),
  // How long to keep trying to reach a VM over SSH (refused while it boots) before giving up.
  SSH_CONNECT_TIMEOUT_SECONDS: z.coerce.number().positive().default(300),
  // Every HTTP call to a cloud API (Keystone, Nova, Glance, Neutron) is abandoned after this long.
  PROVIDER_API_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
  // Scheduled work (DESIGN §10-11). Cron expressions are in the server's time zone.
  CLEANUP_CRON: z.string().refine((v) => cron.validate(v), "a cron expression, e.g. 30 3 * * *").default("30 3 * * *"),
  CLEANUP_FAILED_DAYS: z.coerce.number().positive().default(7),
  CLEANUP_INACTIVE_DAYS: z.coerce.number().positive().default(14),
  LOG_RETENTION_DAYS: z.coerce.number().positive().default(90),
  LB_SYNC_MINUTES: z.coerce.number().int().min(1).max(1440).default(5),
  // Orphan VMs (the provider has them, the database does not) are removed this long after they
  // were first seen; 0 only reports them on the Orphans page.
  ORPHAN_REMOVE_AFTER_HOURS: z.coerce.number().min(0).default(0),
  SSH_KEYS_SYNC_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Pull-request sandboxes (docs/pr-sandboxes.md): how often every watched repository's open pull
  // requests are listed, to catch what a missed webhook did not say.
  PR_SANDBOX_POLL_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),
  // Unix accounts made for the organization's members are named <prefix><github login>.
  SSH_ACCOUNT_PREFIX: z.string().regex(/^([a-z][a-z0-9_-]{0,15})?$/, "lowercase letters, digits, - and _, starting with a letter").default(""),
  // The haproxy that Ocim runs itself for `local` load balancers listens here (docs/load-balancer.md).
  LB_HTTP_PORT: z.coerce.number().int().min(1).max(65535).default(8080),
  LB_HTTPS_PORT: z.coerce.number().int().min(1).max(65535).default(8443),
  // HTTPS for every instance (docs/load-balancer.md): certificates are ordered from this ACME
  // directory (Let's Encrypt's is https://acme-v02.api.letsencrypt.org/directory); empty: none are.
  ACME_DIRECTORY_URL: z.union([z.literal(""), z.url({ protocol: /^https$/, error: "an https URL" })]).default(""),
  // The ACME account's contact, told of expiring certificates by the CA; empty: no contact.
  ACME_EMAIL: z.union([z.literal(""), z.email({ error: "an email address" })]).default(""),
  // A PEM file of CAs to trust for the ACME directory's own HTTPS besides the system's (a test CA like pebble).
  ACME_CA_FILE: z.string().default(""),
  LB_BIND: z.union([z.ipv4(), z.ipv6()], { error: "an IP address" }).default("127.0.0.1"),
  // The only directory where `local` balancers' files may be (docs/load-balancer.md); unset: DATA_DIR/haproxy.
  LOCAL_LB_DIR: z.string().optional(),
  // Path or command name; unset: found on PATH, then in /usr/sbin and /usr/local/sbin.
  HAPROXY_BIN: z.string().optional(),
  // Private key Ocim logs in with on the hosts of `ssh` load balancers.
  LB_SSH_KEY_FILE: z.string().optional(),
  // Deadline for each haproxy step (`haproxy -c`, start, reload) of one apply.
  HAPROXY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
  // How long an apply waits for another one of the same balancer before leaving the work to it.
  LB_APPLY_WAIT_SECONDS: z.coerce.number().int().min(0).max(3600).default(120),
  // At most one reload per this many seconds of the haproxy of an `ssh` balancer (a shared host);
  // changes in between are applied together by one delayed apply. 0: reload at every change.
  LB_MIN_RELOAD_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  // Notifications (docs/notifications.md). Email channels send through this SMTP server
  // (smtp://user:pass@host:587, smtps://… for TLS from the start); unset: email channels fail with
  // a message saying so, webhooks work.
  SMTP_URL: z.string().regex(/^smtps?:\/\//, "an smtp:// or smtps:// URL").optional(),
  NOTIFY_FROM: z.email({ error: "an email address" }).default("ocim@localhost"),
  // A delivery is tried this many times in all, waiting this long before the first retry, then
  // twice as long each time.
  NOTIFY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  NOTIFY_RETRY_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  // Each webhook call and SMTP conversation is abandoned after this long (then retried).
  NOTIFY_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(15),
});

export type Config = Readonly<
  z.infer<typeof schema> & {
    dataDir: string;
    /** LOCAL_LB_DIR, absolute. */
    localLbDir: string;
    githubConfigured: boolean;
    secureCookies: boolean;
  }
>;

/** The console's own address, for links in messages and the OAuth callback (PUBLIC_URL, else HOST:PORT). */
export function publicUrlOf(deps: { config: Pick<Config, "PUBLIC_URL" | "HOST" | "PORT"> }): string {
  return (deps.config.PUBLIC_URL ?? `http://${reachableHost(deps.config.HOST)}:${deps.config.PORT}`).replace(/\/$/, "");
}

/** Where this machine reaches a server listening on HOST: 0.0.0.0 (every address) by 127.0.0.1. */
export function reachableHost(host: string): string {
  return host === "0.0.0.0" ? "127.0.0.1" : host;
}

// Settings whose values an error message never repeats: keys, tokens, and URLs that may carry a password.
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  "SECRET_KEY", "SECRET_KEY_PREVIOUS", "GITHUB_CLIENT_SECRET", "GITHUB_TOKEN", "METRICS_TOKEN",
  "DATABASE_URL", "REDIS_URL", "SMTP_URL",
]);

/** `PORT: "abc" is not a number`: the setting, what was given (unless secret) and what it must be. */
function describeSettingIssue(env: Record<string, string | undefined>, issue: z.core.$ZodIssue): string {
  const name = String(issue.path[0]);
  const given = SECRET_SETTINGS.has(name) ? "the value given (not shown: secret)" : JSON.stringify(env[name]);
  switch (issue.code) {
    case "invalid_type":
      return `${name}: ${given} is not ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}`;
    case "invalid_value":
      return `${name}: ${given} is not one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      if (issue.origin === "string") return `${name}: ${given} is shorter than ${String(issue.minimum)} characters`;
      return `${name}: ${env[name]} is ${issue.inclusive ? "below" : "not above"} ${String(issue.minimum)}`;
    case "too_big":
      if (issue.origin === "string") return `${name}: ${given} is longer than ${String(issue.maximum)} characters`;
      return `${name}: ${env[name]} is ${issue.inclusive ? "above" : "not below"} ${String(issue.maximum)}`;
    default:
      // The schema's own messages are noun phrases ("a postgresql:// URL"); Zod's are sentences.
      return /^[a-z]/.test(issue.message) ? `${name}: ${given} is not ${issue.message}` : `${name}: ${given}: ${issue.message}`;
  }
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[], heading = "Invalid settings") {
    super(`${heading}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/**
 * The oldest Node.js Ocim runs on: package.json's engines (">=24"), which bin/setup reads too. On
 * Linux npm ci brings it into node_modules and npm's scripts run it (README, Quick start); started
 * by hand on an older one (`node --import tsx src/bin/web.ts` with Debian's Node.js 20, say), every
 * role says so and stops.
 */
export const NODE_MAJOR = Number(/^>=(\d+)/.exec(packageJson.engines.node)![1]);

/**
 * Parses settings from an environment (process.env by default). Throws ConfigError listing every
 * problem, or naming the Node.js version (`nodeVersion`, this process's by default) if it is too old.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, nodeVersion = process.versions.node): Config {
  if (Number(nodeVersion.split(".")[0]) < NODE_MAJOR) {
    throw new ConfigError(
      [`Node.js ${nodeVersion} is older than ${NODE_MAJOR}, which Ocim runs on: start it through npm (npm start, npm run web|worker|scheduler, npx ocim), which runs the Node.js that npm ci put in node_modules on Linux, or install Node.js ${NODE_MAJOR} (README, Quick start)`],
      "Cannot start",
    );
  }
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => describeSettingIssue(cleaned, i)));
  }
  const c = parsed.data;
  const problems: string[] = [];
  const githubConfigured = Boolean(c.GITHUB_CLIENT_ID || c.GITHUB_CLIENT_SECRET);
  if (githubConfigured && !(c.GITHUB_CLIENT_ID && c.GITHUB_CLIENT_SECRET)) {
    problems.push("GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET: set both or neither");
  }
  if (githubConfigured && !c.GITHUB_ORG) problems.push("GITHUB_ORG: required when a GitHub app is configured");
  if (c.NODE_ENV === "production") {
    if (!githubConfigured) problems.push("GITHUB_CLIENT_ID: production needs GitHub login (no one-time links)");
    if (!c.SECRET_KEY) problems.push("SECRET_KEY: required in production");
    if (!c.DATABASE_URL) problems.push("DATABASE_URL: required in production");
    if (!c.REDIS_URL) problems.push("REDIS_URL: required in production");
    if (!c.PUBLIC_URL) problems.push("PUBLIC_URL: required in production (the OAuth callback is built from it)");
  }
  // Else every instance added with a blank release would be refused.
  const release = recipeReleaseProblem(c.DEFAULT_RECIPE, c.DEFAULT_OPENEDX_RELEASE);
  if (release) problems.push(`DEFAULT_OPENEDX_RELEASE: "${c.DEFAULT_OPENEDX_RELEASE}" does not suit DEFAULT_RECIPE=${c.DEFAULT_RECIPE}. ${release}`);
  const dataDir = path.resolve(c.DATA_DIR);
  const localLbDir = path.resolve(c.LOCAL_LB_DIR ?? path.join(dataDir, "haproxy"));
  // Every file below it may be replaced by an admin's balancer: never the whole file system.
  if (localLbDir === "/") problems.push("LOCAL_LB_DIR: a directory of its own, not /");
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze({
    ...c,
    dataDir,
    localLbDir,
    githubConfigured,
    secureCookies: c.SECURE_COOKIES ?? c.PUBLIC_URL?.startsWith("https://") ?? false,
  });
}
