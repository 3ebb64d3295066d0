// Configuration as code, as an operator uses it: `npx ocim export > fleet.yml`, edit, `npx ocim
// import fleet.yml --dry-run`, then without --dry-run — the real CLI as a subprocess, real PostgreSQL.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { createTestDeps, TEST_SECRET_KEY, type TestDeps } from "./helpers/deps.js";
import { makeInstance } from "./helpers/factories.js";
import { saveLoadBalancer } from "../src/domain/loadbalancer/save-load-balancer.js";
import { saveProviderAccount } from "../src/domain/providers/save-provider-account.js";
import { settingsToValues } from "../src/domain/providers/account-fields.js";

const BIN = path.resolve("bin/ocim.mjs");
const SMTP_PASSWORD = "smtp-pass-Zq81x";
const OS_PASSWORD = "os-pass-Kk20q";
const actor = { id: null, login: "tester" };

// Each test runs the CLI several times (a process with tsx each): a few seconds apiece, more on a loaded machine.
describe("ocim export / import", { timeout: 300_000 }, () => {
  let deps: TestDeps;
  let dir: string;
  const ocim = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", HOME: dir, NODE_ENV: "test", DATABASE_URL: deps.databaseUrl, SECRET_KEY: TEST_SECRET_KEY, REDIS_URL: deps.redisUrl, QUEUE_PREFIX: deps.config.QUEUE_PREFIX },
      timeout: 90_000,
    }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  const exported = async () => {
    const run = await ocim(["export"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return run.stdout;
  };

  beforeAll(async () => {
    deps = await createTestDeps();
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-fleet-"));
    await saveLoadBalancer(deps, { actor, values: { name: "edge-1", kind: "ssh", host: "lb1.example.net", sshUser: "ocim", sshPort: "22", configPath: "/etc/haproxy/conf.d/ocim.cfg", mapPath: "/etc/haproxy/ocim.map", reloadCommand: "sudo systemctl reload haproxy", fragmentName: "ocim" } });
    await saveProviderAccount(deps, { actor, values: {
      name: "cloud", kind: "openstack", auth: "password",
      ...settingsToValues({ authUrl: "https://keystone.example.net/v3", projectName: "fleet", region: "RegionOne", flavorRef: "m1.large", imageRef: "ubuntu-24.04", keyName: "ocim", networks: ["private"], floatingNetwork: "public" }),
      username: "ocim", password: OS_PASSWORD, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn==\n-----END OPENSSH PRIVATE KEY-----\n",
    } });
    const lb = await deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "edge-1" } });
    await makeInstance(deps, { name: "Alpha", slug: "alpha", internalLmsDomain: "alpha.example.org", tags: ["eu", "pilot"], loadBalancerId: lb.id, extraAnsibleVars: `SMTP_PASSWORD: ${SMTP_PASSWORD}\nPLATFORM_NAME: Alpha\n` });
    await makeInstance(deps, { name: "Bravo", slug: "bravo", internalLmsDomain: "bravo.example.org", isArchived: true });
  });
  afterAll(() => deps?.close());

  it("exports every balancer, account and instance by name, without a secret", async () => {
    const text = await exported();
    expect(text).not.toContain(SMTP_PASSWORD);
    expect(text).not.toContain(OS_PASSWORD);
    expect(text).not.toContain("PRIVATE KEY");
    const fleet = parseYaml(text);
    expect(fleet.loadBalancers.map((b: { name: string }) => b.name)).toEqual(["edge-1"]);
    expect(fleet.providerAccounts).toEqual([{ name: "cloud", kind: "openstack", settings: expect.objectContaining({ projectName: "fleet" }) }]);
    expect(fleet.instances.map((i: { slug: string }) => i.slug)).toEqual(["alpha", "bravo"]);
    const alpha = fleet.instances[0];
    expect(alpha.loadBalancer).toBe("edge-1");
    expect(alpha.tags).toEqual(["eu", "pilot"]);
    expect(alpha.extraAnsibleVars).toBe("SMTP_PASSWORD: ••••••\nPLATFORM_NAME: Alpha\n");
    expect(fleet.instances[1].isArchived).toBe(true);
  });

  it("round-trips: importing what it exported says no changes", async () => {
    writeFileSync(path.join(dir, "fleet.yml"), await exported());
    const run = await ocim(["import", "fleet.yml", "--dry-run"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe("No changes (4 unchanged).");
  });

  it("prints what an edited file would change and changes nothing on --dry-run; applies it, audited, without", async () => {
    const fleet = parseYaml(await exported());
    fleet.instances[0].name = "Alpha University";
    fleet.instances[0].extraAnsibleVars = fleet.instances[0].extraAnsibleVars.replace("PLATFORM_NAME: Alpha", "PLATFORM_NAME: Alpha U");
    fleet.loadBalancers[0].reloadCommand = "sudo systemctl reload haproxy.service";
    fleet.instances.push({ slug: "charlie", name: "Charlie", internalLmsDomain: "charlie.example.org", loadBalancer: "edge-1" });
    writeFileSync(path.join(dir, "edited.yml"), stringifyYaml(fleet));

    const dry = await ocim(["import", "edited.yml", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('~ load balancer "edge-1"\n    reloadCommand: "sudo systemctl reload haproxy" → "sudo systemctl reload haproxy.service"');
    expect(dry.stdout).toContain('~ instance "alpha"\n    name: "Alpha" → "Alpha University"\n    extraAnsibleVars:\n      - PLATFORM_NAME: Alpha\n      + PLATFORM_NAME: Alpha U');
    expect(dry.stdout).toContain('+ instance "charlie" (new)');
    expect(dry.stdout).toContain("3 change(s), 2 unchanged.");
    expect(dry.stdout).not.toContain(SMTP_PASSWORD);
    expect(await deps.db.instance.count({ where: { slug: "charlie" } })).toBe(0);
    expect((await deps.db.instance.findUniqueOrThrow({ where: { slug: "alpha" } })).name).toBe("Alpha");

    const run = await ocim(["import", "edited.yml"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("3 change(s), 2 unchanged.");
    const alpha = await deps.db.instance.findUniqueOrThrow({ where: { slug: "alpha" } });
    expect(alpha.name).toBe("Alpha University");
    // The masked secret was put back from what was stored, not replaced by the mask.
    expect(alpha.extraAnsibleVars).toBe(`SMTP_PASSWORD: ${SMTP_PASSWORD}\nPLATFORM_NAME: Alpha U\n`);
    const charlie = await deps.db.instance.findUniqueOrThrow({ where: { slug: "charlie" } });
    expect(charlie.loadBalancerId).toBe(alpha.loadBalancerId);
    expect(charlie.studioDomain).toBe("studio.charlie.example.org");
    const events = await deps.db.auditEvent.findMany({ where: { actorLogin: { startsWith: "cli:" } }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.action, e.subjectName])).toEqual([
      ["load_balancer.updated", "edge-1"], ["instance.updated", "Alpha University"], ["instance.created", "Charlie"],
    ]);
    expect(JSON.stringify(events)).not.toContain(SMTP_PASSWORD);

    writeFileSync(path.join(dir, "again.yml"), await exported());
    const again = await ocim(["import", "again.yml", "--dry-run"]);
    expect(again.stdout.trim()).toBe("No changes (5 unchanged).");
  });

  it("refuses a file with mistakes as a whole, naming each, and changes nothing", async () => {
    const fleet = parseYaml(await exported());
    fleet.instances[0].name = "Renamed, but the file is refused";
    fleet.instances[1].internalLmsDomain = "not a domain";
    fleet.instances.push({ slug: "delta", name: "Delta", internalLmsDomain: "delta.example.org", loadBalancer: "edge-9" });
    fleet.providerAccounts.push({ name: "cloud-2", kind: "openstack", settings: {} });
    writeFileSync(path.join(dir, "bad.yml"), stringifyYaml(fleet));
    const before = await deps.db.auditEvent.count();

    const run = await ocim(["import", "bad.yml"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Nothing was changed; the file has 3 problem(s):");
    expect(run.stderr).toContain('- provider account "cloud-2": a new OpenStack account needs its credentials');
    expect(run.stderr).toContain('- instance "bravo": internalLmsDomain: "not a domain" is not a valid domain name');
    expect(run.stderr).toContain('- instance "delta": loadBalancer: there is no load balancer named "edge-9" in the console or the file.');
    expect((await deps.db.instance.findUniqueOrThrow({ where: { slug: "alpha" } })).name).toBe("Alpha University");
    expect(await deps.db.auditEvent.count()).toBe(before);
  });

  it("names the line of a YAML mistake and the entry of a wrong field", async () => {
    writeFileSync(path.join(dir, "broken.yml"), "version: 1\ninstances:\n  - slug: alpha\n    name: [unclosed\n");
    const broken = await ocim(["import", "broken.yml", "--dry-run"]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^ocim: The file is not valid YAML \(line \d\): /);

    writeFileSync(path.join(dir, "typo.yml"), "version: 1\ninstances:\n  - slug: alpha\n    nmae: Alpha\n");
    const typo = await ocim(["import", "typo.yml", "--dry-run"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('instances[0] ("alpha")');
    expect(typo.stderr).toContain("nmae");

    const missing = await ocim(["import", "nowhere.yml"]);
    expect(missing.stderr.trim()).toBe("ocim: Cannot read nowhere.yml: no such file.");
  });

  it("gives a new instance that names no balancer or data service the ones the admin's Add form starts on", async () => {
    // One balancer (edge-1) and a default MySQL server: the Add form preselects both.
    const mysql = await deps.db.dataService.create({ data: { name: "shared-mysql", kind: "mysql", isDefault: true } });
    const edge = await deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "edge-1" } });
    writeFileSync(path.join(dir, "new.yml"), stringifyYaml({ version: 1, instances: [
      { slug: "delta", name: "Delta", internalLmsDomain: "delta.example.org" },
      { slug: "echo", name: "Echo", internalLmsDomain: "echo.example.org", loadBalancer: null, mysqlService: null },
    ] }));
    const run = await ocim(["import", "new.yml"]);
    expect(run.code, run.stderr).toBe(0);
    const created = await deps.db.instance.findMany({ where: { slug: { in: ["delta", "echo"] } }, orderBy: { slug: "asc" }, select: { loadBalancerId: true, mysqlServiceId: true } });
    // Left out: the defaults; set to none in the file: none, as written.
    expect(created).toEqual([{ loadBalancerId: edge.id, mysqlServiceId: mysql.id }, { loadBalancerId: null, mysqlServiceId: null }]);
  });
});
