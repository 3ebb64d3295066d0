// The management commands of `npx ocim` (like Django's manage.py commands). Each parses nothing
// itself: cli.ts hands it its checked arguments and a context that connects on first use.
import { readFileSync } from "node:fs";
import os from "node:os";
import { resolve as resolvePath } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import type { ParseArgsConfig } from "node:util";
import type { Config } from "../config.js";
import type { Db } from "../db.js";
import type { Actor } from "../domain/audit/record-audit-event.js";
import { createApiToken } from "../domain/auth/api-tokens.js";
import { createLoginLink } from "../domain/auth/login-links.js";
import { makeAdmin, type MakeAdminOutcome } from "../domain/auth/make-admin.js";
import { consoleAnswers, consoleUrl } from "./console-address.js";
import { migrate, secretKey } from "./boot.js";
import { Redis } from "ioredis";
import { AppError } from "../errors.js";
import { JOB, PERIODIC_JOBS, type PeriodicJob } from "../jobs/names.js";
import { createJobs } from "../jobs/queues.js";
import { runningRedisUrl } from "../embedded/redis.js";
import { createSecrets } from "../crypto.js";
import { createDemoInstance } from "../domain/instances/create-demo-instance.js";
import { resealSecrets } from "../domain/secrets/reseal-secrets.js";
import { previewLaunch } from "../domain/recipes/preview-launch.js";
import { launchPreviewText } from "./launch-preview-text.js";
import { exportFleet } from "../domain/fleet/fleet-file.js";
import { applyImport, describePlan, parseFleetFile, planImport, problemsError } from "../domain/fleet/import-fleet.js";
import { setMaintenance } from "../domain/instances/set-maintenance.js";

export interface CliContext {
  config: Config;
  /** The database `npm start` uses (DATABASE_URL, or the embedded one under DATA_DIR). */
  database(): Promise<{ url: string; db: Db }>;
  print(line: string): void;
  /** A remark for the person, on stderr: stdout stays the command's output alone (a token, a URL). */
  note(line: string): void;
}

export interface Command {
  usage: string;
  summary: string;
  details: string;
  positionals: string[];
  /** The only values a positional takes (checked as usage, before anything runs). */
  choices?: Record<string, readonly string[]>;
  options?: NonNullable<ParseArgsConfig["options"]>;
  /** "--option VALUE" → what it does, for --help. */
  optionHelp?: Record<string, string>;
  run(cli: CliContext, args: string[], options: Record<string, string | boolean | undefined>): Promise<void>;
}

/** What the console itself uses: SECRET_KEY (or DATA_DIR/secret_key), and SECRET_KEY_PREVIOUS for decrypting. */
function cliSecrets(config: Config) {
  return createSecrets(secretKey(config), config.SECRET_KEY_PREVIOUS ? [config.SECRET_KEY_PREVIOUS] : []);
}

/** Audit events name who ran the command on which machine account. */
function cliActor(): Actor {
  return { id: null, login: `cli:${os.userInfo().username}` };
}

const ADMIN_MESSAGES: Record<MakeAdminOutcome, (login: string, config: Config) => string> = {
  // A login link logs in only the local admin, so a user made here needs the GitHub app.
  created: (login, config) => config.githubConfigured
    ? `Created the admin ${login}. They log in with GitHub (as a member of ${config.GITHUB_ORG}).`
    : `Created the admin ${login}. They can log in once a GitHub app is configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_ORG; see docs/github.md); until then only the local admin gets in, with a link from \`npx ocim login-link\`.`,
  promoted: (login) => `${login} is now an admin.`,
  reactivated: (login) => `${login} was deactivated; they are now an active admin.`,
  unchanged: (login) => `${login} is already an admin; nothing changed.`,
};

/** Queues a periodic job for the running console's workers; null when there is no Redis to queue it in. */
async function queuePeriodicJob(cli: CliContext, job: PeriodicJob): Promise<string | null> {
  const url = cli.config.REDIS_URL ?? (await runningRedisUrl(cli.config.dataDir));
  if (!url) return null;
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on("error", () => {}); // an unreachable Redis is reported by enqueue (REDIS_DOWN), once
  const jobs = createJobs(redis, cli.config.QUEUE_PREFIX, cli.config.REDIS_TIMEOUT_MS);
  try {
    return await jobs.enqueue(job, {}, { jobId: `${job}-manual-${Date.now()}`, attempts: 1 });
  } finally {
    await jobs.close();
    redis.disconnect();
  }
}

function readFileIfThere(path: string): string {
  try {
    // bin/ocim.mjs runs in the package root; a relative path is the caller's.
    return readFileSync(resolvePath(process.env.OCIM_CALLER_CWD ?? ".", path), "utf8");
  } catch (err) {
    throw new AppError("validation", `Cannot read ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}.`);
  }
}

/**
 * `maintenance on|off`: the console's Decommission panel's first step (docs/admin.md). The balancer's
 * apply is queued in the same transaction; a running worker (npm start) sends it on.
 */
function maintenanceCommand(on: boolean): Command {
  return {
    usage: `maintenance ${on ? "on" : "off"} <instance>`,
    summary: on
      ? "Put an instance in maintenance: the load balancer answers every domain with the maintenance page"
      : "Take an instance out of maintenance: the load balancer sends its domains to its active appservers again",
    details: `<instance> is the instance's slug or id. Recorded in the audit log as done by cli:<your user name>.${on
      ? "\nIn maintenance, the instance's last active appserver may be deactivated: the first step of taking a site down."
      : "\nRefused while no appserver is active (the site would have nothing to serve), unless the instance is linked to a pull request."}\nThe load balancer is applied by a running worker (npm start, or npm run worker).`,
    positionals: ["instance"],
    async run(cli, [instance]) {
      const { db } = await cli.database();
      const result = await setMaintenance({ db, now: () => new Date() }, { instance: instance!, actor: cliActor(), on });
      const link = `${await consoleUrl(cli.config)}/instances/${result.id}`;
      cli.print(on
        ? `${result.name} is in maintenance: the load balancer answers every domain with the maintenance page. ${link}`
        : `${result.name} left maintenance: ${result.active ? `its ${result.active} active appserver(s) serve it again` : "no appserver is active, so the balancer answers the generic maintenance page until one is"}. ${link}`);
    },
  };
}

export const COMMANDS: Record<string, Command> = {
  "create-admin": {
    usage: "create-admin <github-login>",
    summary: "Create an admin, or make an existing user an admin",
    details: "The user is matched by GitHub login (case does not matter). A deactivated user is reactivated.",
    positionals: ["github-login"],
    async run(cli, [login]) {
      const { db } = await cli.database();
      const result = await makeAdmin({ db }, { githubLogin: login!, actor: cliActor() });
      cli.print(ADMIN_MESSAGES[result.outcome](result.githubLogin, cli.config));
    },
  },
  "token create": {
    usage: "token create <github-login> [--name NAME]",
    summary: "Create an API token for a user; prints only the token",
    details: "The token is printed once on stdout, alone, so a script can capture it:\n  TOKEN=$(npx ocim token create alice --name deploy)\nOnly a hash is stored; revoke it on the API tokens page.",
    positionals: ["github-login"],
    options: { name: { type: "string", short: "n" } },
    optionHelp: { "-n, --name NAME": "What the token is for, shown on the API tokens page (at most 100 characters)." },
    async run(cli, [login], options) {
      const { db } = await cli.database();
      const { token } = await createApiToken({ db }, { githubLogin: login!, name: options.name as string | undefined, actor: cliActor() });
      cli.print(token);
    },
  },
  "login-link": {
    usage: "login-link",
    summary: "Print a one-time login URL for the local admin (not in production)",
    details: "Like the link `npm start` prints when no GitHub app is configured. It works once, within LOGIN_LINK_MINUTES.",
    positionals: [],
    async run(cli) {
      const { db } = await cli.database();
      const token = await createLoginLink({ db, config: cli.config, now: () => new Date() });
      const url = await consoleUrl(cli.config);
      cli.print(`${url}/login/${token}`);
      if (!(await consoleAnswers(url))) {
        cli.note(`No console is running at ${url}: the link works once one runs at that address (npm start), within ${cli.config.LOGIN_LINK_MINUTES} minutes.`);
      }
    },
  },
  demo: {
    usage: "demo",
    summary: "Create a demo instance (local provider, demo playbook) to try the whole flow",
    details: "The same as the empty console's \"Create a demo instance\". Its appservers are sshd processes on loopback addresses of this host: not for production.",
    positionals: [],
    async run(cli) {
      const { db } = await cli.database();
      const instance = await createDemoInstance({ db, config: cli.config, secrets: cliSecrets(cli.config) }, { actor: cliActor() });
      cli.print(`Created the demo instance "${instance.name}" (${instance.internalLmsDomain}): ${await consoleUrl(cli.config)}/instances/${instance.id}`);
      cli.print(instance.dataNote);
    },
  },
  "reseal-secrets": {
    usage: "reseal-secrets",
    summary: "Re-encrypt instance keys and provider credentials under the current SECRET_KEY",
    details: "After changing SECRET_KEY: set SECRET_KEY_PREVIOUS to the old key, restart, run this once, then remove SECRET_KEY_PREVIOUS. See docs/security.md.",
    positionals: [],
    async run(cli) {
      const { db } = await cli.database();
      const outcome = await resealSecrets({ db, secrets: cliSecrets(cli.config) });
      cli.print(`Re-encrypted the keys of ${outcome.instances} instance(s) the credentials of ${outcome.providerAccounts} provider account(s), ${outcome.tlsKeys} TLS key(s) and ${outcome.webhookSecrets} webhook secret(s) under the current SECRET_KEY.`);
      if (outcome.unreadable.length) {
        throw new AppError("validation", `Could not decrypt ${outcome.unreadable.join(", ")} with SECRET_KEY or SECRET_KEY_PREVIOUS; left unchanged.`);
      }
    },
  },
  variables: {
    usage: "variables <instance> [--json]",
    summary: "Print what a launch of an instance would send now (secrets masked), and its difference from the active appserver",
    details: "<instance> is the instance's slug or id. Prints the recipe, the playbook and the merged variables a launch would send (YAML,\nsecret values masked), then what differs from the frozen variables of each active appserver. Reads only: nothing is\nlaunched, numbered or written. The console's \"Preview launch\" shows the same.",
    positionals: ["instance"],
    options: { json: { type: "boolean" } },
    optionHelp: { "--json": "Print the same as one JSON object (the same masking)." },
    async run(cli, [instance], options) {
      const { db } = await cli.database();
      const preview = await previewLaunch({ db, secrets: cliSecrets(cli.config), config: cli.config }, { instance: instance! });
      const { variablesYaml: _yaml, ...json } = preview;
      cli.print(options.json ? JSON.stringify(json, null, 2) : launchPreviewText(preview));
    },
  },
  "maintenance on": maintenanceCommand(true),
  "maintenance off": maintenanceCommand(false),
  run: {
    usage: "run <job>",
    summary: `Queue a periodic job now for the workers: ${PERIODIC_JOBS.join(" | ")}`,
    details: "The job runs in a worker of the running console (npm start, or npm run worker), like its scheduled runs. Needs REDIS_URL, or an `npm start` running on this DATA_DIR.",
    positionals: ["job"],
    choices: { job: PERIODIC_JOBS },
    async run(cli, [job]) {
      const queued = await queuePeriodicJob(cli, job as PeriodicJob);
      if (!queued) throw new AppError("unavailable", "No Redis to queue the job in: start Ocim (npm start) on this DATA_DIR, or set REDIS_URL.");
      cli.print(`Queued ${job} (job ${queued}); a worker runs it now.`);
    },
  },
  export: {
    usage: "export",
    summary: "Print the fleet's settings as YAML: load balancers, provider accounts, instances (no secrets)",
    details: "npx ocim export > fleet.yml\nReferences are by name (an instance's load balancer and data services); provider credentials are left out and\nsecrets in extra variables are masked. `ocim import` reads the same file back.",
    positionals: [],
    async run(cli) {
      const { db } = await cli.database();
      const fleet = await exportFleet({ db });
      cli.print(`# Ocim fleet, exported ${new Date().toISOString()}. No secrets: provider credentials are left out, secret values masked.\n` +
        `# Edit and apply with \`npx ocim import <file> --dry-run\`, then without --dry-run.\n` + stringifyYaml(fleet, { lineWidth: 0 }).trimEnd());
    },
  },
  import: {
    usage: "import <file> [--dry-run]",
    summary: "Apply a fleet file (from `ocim export`): prints what changes, then changes it through the admin's commands",
    details: "<file> is a path, or - for standard input. Entries are matched by name (balancers, provider accounts) and slug (instances);\na field left out stays as it is, and nothing is deleted. The whole file is checked first: with any problem, nothing changes.\nEach change is validated and audited like the same change in the admin area.",
    positionals: ["file"],
    options: { "dry-run": { type: "boolean" } },
    optionHelp: { "--dry-run": "Print the changes and the problems, change nothing." },
    async run(cli, [path], options) {
      const text = path === "-" ? readFileSync(0, "utf8") : readFileIfThere(path!);
      const file = parseFleetFile(text);
      const { db } = await cli.database();
      const deps = { db, config: cli.config, secrets: cliSecrets(cli.config) };
      if (options["dry-run"]) {
        const plan = await planImport(deps, file);
        for (const line of describePlan(plan)) cli.print(line);
        if (plan.problems.length) throw problemsError(plan.problems);
        return;
      }
      const plan = await applyImport(deps, file, cliActor());
      for (const line of describePlan(plan)) cli.print(line);
      if (plan.changes.some((c) => c.kind !== "provider account")) {
        const queued = await queuePeriodicJob(cli, JOB.lbSync).catch(() => null);
        cli.print(queued ? "Queued a load balancer sync: the balancers apply the changes now." : "The load balancers apply the changes at their next periodic sync (no Redis reachable to queue one now).");
      }
    },
  },
  migrate: {
    usage: "migrate",
    summary: "Apply the database migrations that are not applied yet",
    details: "`npm start` does this at every start; run it before starting the roles separately.",
    positionals: [],
    async run(cli) {
      const { url } = await cli.database();
      await migrate(url);
      cli.print("The database is up to date.");
    },
  },
};
