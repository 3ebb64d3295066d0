// `npx ocim …` run for real, as a subprocess from another directory, against real PostgreSQL.
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import pg from "pg";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { ensureDatabase, startPostgres, type EmbeddedPostgres } from "../src/embedded/postgres.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { demoData } from "../src/domain/instances/create-demo-instance.js";
import { TEST_SECRET_KEY } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { launchAppServer } from "../src/domain/appservers/launch-appserver.js";
import { recordConsole } from "../src/bin/console-address.js";

const BIN = path.resolve("bin/ocim.mjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ocim(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), NODE_ENV: "test", ...env },
      timeout: 60_000,
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe("ocim CLI", () => {
  let t: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.deps.databaseUrl, PUBLIC_URL: t.url };
  });
  afterAll(() => t.close());

  describe("usage", () => {
    it("lists the commands with --help and exits 0", async () => {
      const run = await ocim(["--help"], env);
      expect(run.code).toBe(0);
      for (const usage of ["create-admin <github-login>", "token create <github-login> [--name NAME]", "login-link", "demo", "run <job>", "migrate"]) {
        expect(run.stdout).toContain(usage);
      }
    });

    it("explains one command with <command> --help", async () => {
      const run = await ocim(["token", "create", "--help"], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Usage: ocim token create <github-login> [--name NAME]");
      expect(run.stdout).toContain("-n, --name NAME");
    });

    it.each([
      [[], "Usage: ocim <command>"],
      [["frobnicate"], 'ocim: unknown command "frobnicate". Run `ocim --help` for the list.\n'],
      [["token"], "ocim token: missing a subcommand. Use one of:\n  ocim token create <github-login> [--name NAME]\n"],
      [["run", "nojob"], "ocim run: unknown job \"nojob\"; choose one of: cleanup, lb-sync, log-purge, ssh-keys-sync, orphans, reconcile, certificate-renewal, daily-notifications, poll-pull-requests, advance-rollouts\nUsage: ocim run <job>\n"],
      [["create-admin"], "ocim create-admin: missing <github-login>\nUsage: ocim create-admin <github-login>\n"],
      [["create-admin", "a", "b"], 'ocim create-admin: unexpected argument "b"\nUsage: ocim create-admin <github-login>\n'],
      [["token", "create", "alice", "--colour", "red"], "ocim token create: unknown option --colour\nUsage: ocim token create <github-login> [--name NAME]\n"],
      [["token", "create", "alice", "--name"], "ocim token create: option --name needs a value\nUsage: ocim token create <github-login> [--name NAME]\n"],
      [["migrate", "--bogus"], "ocim migrate: unknown option --bogus\nUsage: ocim migrate\n"],
    ])("exits 2 with a message for ocim %j", async (args, message) => {
      const run = await ocim(args, env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe("");
    });

    it("exits 1 naming a bad setting", async () => {
      const run = await ocim(["migrate"], { DATABASE_URL: "mysql://localhost/ocim" });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("DATABASE_URL: the value given (not shown: secret) is not a postgresql:// URL");
    });
  });

  describe("create-admin", () => {
    it("creates an admin and records who did it", async () => {
      const run = await ocim(["create-admin", "Alice-Smith"], env);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toBe("Created the admin alice-smith. They can log in once a GitHub app is configured (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, GITHUB_ORG; see docs/github.md); until then only the local admin gets in, with a link from `npx ocim login-link`.\n");
      const user = await t.deps.db.user.findUniqueOrThrow({ where: { githubLogin: "alice-smith" } });
      expect(user.role).toBe("admin");
      const event = await t.deps.db.auditEvent.findFirstOrThrow({ where: { subjectType: "User", subjectId: String(user.id) } });
      expect(event.action).toBe("user.created");
      expect(event.actorLogin).toBe(`cli:${os.userInfo().username}`);
    });

    it("says an admin it creates logs in with GitHub when the GitHub app is configured", async () => {
      const run = await ocim(["create-admin", "gina"], { ...env, GITHUB_CLIENT_ID: "id", GITHUB_CLIENT_SECRET: "secret", GITHUB_ORG: "acme" });
      expect(run).toMatchObject({ code: 0, stdout: "Created the admin gina. They log in with GitHub (as a member of acme).\n" });
    });

    it("promotes an operator, who then sees the admin area", async () => {
      const agent = await t.loginAs("opal");
      expect((await agent.get("/admin")).status).toBe(403);
      const run = await ocim(["create-admin", "opal"], env);
      expect(run.stdout).toBe("opal is now an admin.\n");
      expect(visibleText((await agent.get("/")).text)).toContain("Admin");
      expect((await agent.get("/admin")).status).not.toBe(403);
    });

    it("changes nothing for an admin, and says so", async () => {
      const run = await ocim(["create-admin", "opal"], env);
      expect(run).toMatchObject({ code: 0, stdout: "opal is already an admin; nothing changed.\n" });
    });

    it("refuses something that is not a GitHub login and creates nothing", async () => {
      const before = await t.deps.db.user.count();
      for (const login of ["bad--login", "-dash", "a".repeat(40), "semi;colon"]) {
        const run = await ocim(["create-admin", "--", login], env);
        expect(run.code, login).toBe(1);
        expect(run.stderr, login).toContain(`"${login}" is not a GitHub login`);
      }
      expect(await t.deps.db.user.count()).toBe(before);
    });
  });

  describe("token create", () => {
    it("prints only the token, which the API accepts", async () => {
      await t.loginAs("tom");
      const run = await ocim(["token", "create", "tom", "--name", "nightly report"], env);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(/^ocim_[A-Za-z0-9_-]{43}\n$/);
      const api = await t.agent().get("/api/v1/instances", { headers: { authorization: `Bearer ${run.stdout.trim()}` } });
      expect(api.status).toBe(200);
      const page = await (await t.loginAs("tom")).get("/account/tokens");
      expect(visibleText(page.text)).toContain(`${run.stdout.slice(0, 11)}… nightly report`);
    });

    it("fails clearly for a user who does not exist, printing no token", async () => {
      const run = await ocim(["token", "create", "nobody"], env);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain('No user with GitHub login "nobody"');
    });
  });

  describe("login-link", () => {
    it("prints a one-time URL that logs in the local admin once", async () => {
      const run = await ocim(["login-link"], env);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      const url = run.stdout.trim();
      expect(url).toMatch(new RegExp(`^${t.url}/login/[A-Za-z0-9_-]+$`));
      const agent = t.agent();
      const home = await agent.get(url);
      expect(home.url).toBe(`${t.url}/`);
      expect(visibleText(home.text)).toContain("local-admin");
      expect((await t.agent().get(url)).status).toBe(401);
    });

    it("points at the port `npm start` serves on when PUBLIC_URL is unset, though the CLI runs without PORT", async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-cli-console-"));
      const server = http.createServer((_req, res) => res.end());
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const cliEnv = { DATABASE_URL: t.deps.databaseUrl, DATA_DIR: dataDir };
        // No console recorded under DATA_DIR: HOST and PORT's defaults, and nothing answers there.
        const none = await ocim(["login-link"], cliEnv);
        expect(none.stdout).toMatch(/^http:\/\/127\.0\.0\.1:3000\/login\/[A-Za-z0-9_-]+\n$/);
        expect(none.stderr).toBe("No console is running at http://127.0.0.1:3000: the link works once one runs at that address (npm start), within 60 minutes.\n");
        // What `npm start` records once it listens (this process stands in for it, alive and listening).
        const { port } = server.address() as AddressInfo;
        recordConsole(dataDir, port);
        const run = await ocim(["login-link"], cliEnv);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/login/[A-Za-z0-9_-]+\n$`));
        expect(run.stderr).toBe("");
        // Stopped: the record names a port nothing answers on any more, so back to PORT.
        await new Promise((resolve) => server.close(resolve));
        const stopped = await ocim(["login-link"], cliEnv);
        expect(stopped.stdout).toMatch(/^http:\/\/127\.0\.0\.1:3000\/login\//);
        expect(stopped.stderr).toContain("No console is running at http://127.0.0.1:3000");
      } finally {
        server.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe("run", () => {
    it("queues a periodic job for the workers", async () => {
      const runEnv = { ...env, REDIS_URL: t.deps.redisUrl, QUEUE_PREFIX: t.deps.config.QUEUE_PREFIX };
      const run = await ocim(["run", "lb-sync"], runEnv);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^Queued lb-sync \(job lb-sync-manual-\d+\); a worker runs it now.\n$/);
      const waiting = await t.deps.jobs.queue("periodic").getJobs(["waiting"]);
      expect(waiting.map((j) => j.name)).toContain("lb-sync");
    });
  });

  describe("variables", () => {
    const SECRET = "smtp-pass-5520";
    let instance: Awaited<ReturnType<typeof makeInstance>>;
    beforeAll(async () => {
      instance = await makeInstance(t.deps, {
        name: "Maple Site", slug: "maple-site", recipe: "tutor", openedxRelease: "sumac", tutorPlugins: ["mfe"],
        extraAnsibleVars: `EDXAPP_PLATFORM_NAME: Maple\nEDXAPP_EMAIL_HOST_PASSWORD: ${SECRET}\n`,
      });
    });
    const cliEnv = () => ({ ...env, SECRET_KEY: TEST_SECRET_KEY });

    it("prints the recipe, the playbook and the masked variables a launch would send, by slug, and writes nothing", async () => {
      const before = await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } });
      const run = await ocim(["variables", "maple-site"], cliEnv());
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split("\n");
      expect(lines).toContain(`Instance:  Maple Site (maple-site, id ${instance.id}); a launch now makes AppServer 1 (VM maple-site-as1)`);
      expect(lines).toContain("Recipe:    tutor, sumac, Tutor 19 (Tutor (Docker, current releases))");
      expect(lines).toContain("Plugins:   mfe");
      expect(lines.some((l) => l.startsWith("Playbook:  "))).toBe(true);
      expect(lines).toContain("JWT key:   none yet; the first launch makes it (its variables are not shown here).");
      expect(lines).toContain("EDXAPP_EMAIL_HOST_PASSWORD: ••••••");
      expect(lines).toContain("EDXAPP_PLATFORM_NAME: Maple");
      expect(lines).toContain("No active appserver: nothing to compare with.");
      expect(run.stdout).not.toContain(SECRET);
      expect(run.stdout).not.toContain(basicAuthFor(t.deps.secrets, instance).password);
      expect(await t.deps.db.instance.findUniqueOrThrow({ where: { id: instance.id } })).toEqual(before);
    });

    it("prints the difference from the active appserver, by id, and the same as JSON with --json", async () => {
      const as = await launchAppServer(t.deps, { instanceId: instance.id, actor: { id: null, login: "ocim" } });
      await t.deps.db.appServer.update({ where: { id: as.id }, data: { status: "running", isActive: true } });
      await t.deps.db.instance.update({ where: { id: instance.id }, data: { extraAnsibleVars: `EDXAPP_PLATFORM_NAME: Maple College\nEDXAPP_EMAIL_HOST_PASSWORD: ${SECRET}-2\n` } });
      const run = await ocim(["variables", String(instance.id)], cliEnv());
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split("\n");
      expect(lines).toContain(`Difference from ${as.name} (active):`);
      expect(lines).toContain("  changed  EDXAPP_PLATFORM_NAME: Maple → Maple College");
      expect(lines).toContain("  changed  EDXAPP_EMAIL_HOST_PASSWORD: •••••• → •••••• (changed)");
      expect(lines).not.toContain("JWT key:   none yet; the first launch makes it (its variables are not shown here).");
      const json = await ocim(["variables", "maple-site", "--json"], cliEnv());
      expect(json.code, json.stderr).toBe(0);
      expect(json.stdout).not.toContain(SECRET);
      const parsed = JSON.parse(json.stdout) as { recipe: string; tutorPlugins: string[]; variables: Record<string, unknown>; active: { variables: { changed: unknown[] } }[] };
      expect(parsed).toMatchObject({ recipe: "tutor", tutorPlugins: ["mfe"], variables: { EDXAPP_PLATFORM_NAME: "Maple College", EDXAPP_EMAIL_HOST_PASSWORD: "••••••" } });
      expect(parsed.active[0]!.variables.changed).toContainEqual({ name: "EDXAPP_PLATFORM_NAME", before: "Maple", after: "Maple College" });
    });

    it("exits 1 naming an unknown instance", async () => {
      const run = await ocim(["variables", "no-such-site"], cliEnv());
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('No instance "no-such-site": give an instance\'s slug or id');
      expect(run.stdout).toBe("");
    });
  });

  describe("maintenance", () => {
    it("puts an instance in maintenance by slug, audited as the CLI's user, and keeps it there while out of it the site would serve nothing", async () => {
      const site = await makeInstance(t.deps, { name: "Birch Campus", slug: "birch-campus" });
      const on = await ocim(["maintenance", "on", "birch-campus"], env);
      expect(on.code, on.stderr).toBe(0);
      expect(on.stdout).toBe(`Birch Campus is in maintenance: the load balancer answers every domain with the maintenance page. ${t.url}/instances/${site.id}\n`);
      const down = await t.deps.db.instance.findUniqueOrThrow({ where: { id: site.id } });
      expect(down.maintenanceSince).not.toBeNull();
      expect(down.maintenanceBy).toBe(`cli:${os.userInfo().username}`);

      const off = await ocim(["maintenance", "off", String(site.id)], env);
      expect(off.code).toBe(1);
      expect(off.stderr).toContain("Birch Campus has no active appserver, so out of maintenance the site would have nothing to serve.");
      expect((await t.deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).maintenanceSince).toEqual(down.maintenanceSince);

      const events = await t.deps.db.auditEvent.findMany({ where: { subjectType: "Instance", subjectId: String(site.id) }, select: { action: true, actorLogin: true } });
      expect(events).toEqual([{ action: "instance.maintenance_entered", actorLogin: `cli:${os.userInfo().username}` }]);
    }, 150_000); // two CLI processes, each starting tsx: ~20 s apiece on the loaded build machine
  });

  describe("demo", () => {
    it("creates the demo instance with its configuration repository under DATA_DIR", async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-cli-demo-"));
      try {
        const run = await ocim(["demo"], { ...env, DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET_KEY });
        expect(run.code, run.stderr).toBe(0);
        const demo = await t.deps.db.instance.findFirstOrThrow({ where: { internalLmsDomain: { endsWith: ".demo.localhost" } }, orderBy: { id: "desc" } });
        expect(run.stdout.trim().split("\n")).toEqual([
          `Created the demo instance "${demo.name}" (${demo.internalLmsDomain}): ${t.url}/instances/${demo.id}`,
          // This machine has MariaDB (tests/helpers/mariadb.ts needs it), but no MySQL server is recorded here.
          "The data panel is off: no default MySQL server is configured (add one in admin › Data services, or restart Ocim: npm start records its embedded MariaDB as the default). Each appserver keeps no data, and the demo page says so.",
        ]);
        expect(demo.mysqlServiceId).toBeNull();
        // Its own repository and playbook: the custom recipe, on any machine.
        expect(demo.recipe).toBe("custom");
        expect(demo.configurationRepoUrl).toBe(`file://${dataDir}/demo-configuration`);
        expect(existsSync(path.join(dataDir, "demo-configuration", "playbooks", "demo", "site.yml"))).toBe(true);
        // Made with the console's key: the appservers' basic auth can be derived.
        expect(basicAuthFor(t.deps.secrets, demo).password).toHaveLength(24);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it("puts the demo's data on the default MySQL server, and says so", async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-cli-demo-"));
      const mysql = await t.deps.db.dataService.create({ data: { name: "Embedded MySQL", kind: "mysql", isDefault: true, settings: { host: "127.0.0.1", port: 3306 } } });
      try {
        const run = await ocim(["demo"], { ...env, DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET_KEY });
        expect(run.code, run.stderr).toBe(0);
        const demo = await t.deps.db.instance.findFirstOrThrow({ where: { internalLmsDomain: { endsWith: ".demo.localhost" } }, orderBy: { id: "desc" } });
        expect(run.stdout).toContain('Its data is on the MySQL server "Embedded MySQL": the demo page counts visits there, and the count goes on when a new appserver takes over.');
        expect(demo.mysqlServiceId).toBe(mysql.id);
      } finally {
        await t.deps.db.instance.updateMany({ where: { mysqlServiceId: mysql.id }, data: { mysqlServiceId: null } });
        await t.deps.db.dataService.delete({ where: { id: mysql.id } });
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it("without MariaDB, says the data panel is off and how to install it", async () => {
      const data = await demoData(t.deps, () => false);
      expect(data).toEqual({
        mysqlServiceId: null,
        note: "The data panel is off: no MySQL server is configured and MariaDB is not installed, so npm start runs none (sudo apt-get install mariadb-server, then restart Ocim). Each appserver keeps no data, and the demo page says so.",
      });
    });
  });

  describe("migrate", () => {
    it("creates the tables of an empty database", async () => {
      const adminUrl = inject("pgAdminUrl");
      const name = `ocim_cli_${process.pid}`;
      await ensureDatabase(adminUrl, name);
      const url = adminUrl.replace(/\/postgres$/, `/${name}`);
      try {
        const first = await ocim(["create-admin", "zed"], { DATABASE_URL: url });
        expect(first.code).toBe(1);
        expect(first.stderr).toContain("The database has no tables yet. Run `npx ocim migrate`");
        const run = await ocim(["migrate"], { DATABASE_URL: url });
        expect(run).toMatchObject({ code: 0, stdout: "The database is up to date.\n" });
        expect((await ocim(["create-admin", "zed"], { DATABASE_URL: url })).code).toBe(0);
      } finally {
        await query(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
    });
  });
});

describe("ocim CLI on the embedded PostgreSQL of `npm start`", () => {
  let dataDir: string;
  let running: EmbeddedPostgres | null = null;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "ocim-cli-"));
    chmodSync(dataDir, 0o755); // the postgres user must reach its data directory below it
  });
  afterAll(async () => {
    await running?.child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts it for the command when `npm start` is not running, and stops it after", async () => {
    const env = { DATA_DIR: dataDir };
    expect((await ocim(["migrate"], env)).code).toBe(0);
    const run = await ocim(["create-admin", "dana"], env);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining("Created the admin dana.") });
    expect(existsSync(path.join(dataDir, "postgres", "postmaster.pid"))).toBe(false);
  });

  it("uses the server `npm start` runs there, and leaves it running", async () => {
    // What `npm start` does first: start the server on the data directory and record it.
    running = await startPostgres(dataDir, () => {});
    const run = await ocim(["create-admin", "erin"], { DATA_DIR: dataDir });
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining("Created the admin erin.") });
    const users = await query<{ githubLogin: string }>(running.url, `SELECT "githubLogin" FROM "User" WHERE role = 'admin' ORDER BY 1`);
    expect(users.map((u) => u.githubLogin)).toEqual(["dana", "erin"]);
    expect(running.child.process.exitCode).toBeNull();
  });
});

describe("the embedded PostgreSQL in a directory its user cannot reach", () => {
  // Only root runs PostgreSQL as another user (CI runs as root); anyone else owns their own data.
  it.runIf(process.getuid?.() === 0)("says which directory to open, instead of initdb's bare 'Permission denied'", async () => {
    const privateDir = mkdtempSync(path.join(os.tmpdir(), "ocim-private-")); // mode 700, like a mktemp checkout
    try {
      await expect(startPostgres(path.join(privateDir, ".data"), () => {})).rejects.toThrow(
        `PostgreSQL runs as the 'postgres' user here (it refuses to run as root), and that user cannot enter ${privateDir}. ` +
          `Let it in (chmod o+x ${privateDir}) or set DATA_DIR to a directory it can reach.`,
      );
      expect(existsSync(path.join(privateDir, ".data"))).toBe(false);
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  });
});
