// Applying a local load balancer for real: Ocim starts haproxy, fake appservers stand behind it,
// requests go through it with the instance's Host header.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { AppError } from "../src/errors.js";
import { localRuntimePaths, stopLocalHaproxy } from "../src/adapters/haproxy/local-process.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { bumpConfiguration } from "../src/domain/loadbalancer/bump-configuration.js";
import { reconcileLoadBalancers } from "../src/domain/loadbalancer/reconcile-load-balancers.js";
import { renderFragment } from "../src/domain/loadbalancer/render-config.js";
import { loadRenderInput } from "../src/domain/loadbalancer/render-input.js";
import { localConfigFile } from "../src/adapters/haproxy/local.js";
import { localChallengeMap } from "../src/adapters/haproxy/local-acme.js";
import { allDomains } from "../src/domain/instances/domains.js";
import { setMaintenance } from "../src/domain/instances/set-maintenance.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { eventually, lbGet, makeLoadBalancer, removeLoadBalancerFiles, disposeLoadBalancer } from "./helpers/lb.js";
import { sample } from "./helpers/metrics.js";
import { serveAs } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { loadBalancerLockKey, tryLock } from "../src/domain/loadbalancer/lock.js";

describe("applying a local load balancer", () => {
  let deps: TestDeps;
  let port: number;
  let lb: Awaited<ReturnType<typeof makeLoadBalancer>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;
  let idle: Awaited<ReturnType<typeof makeInstance>>;
  let a: FakeAppServer;
  let b: FakeAppServer;
  let asA: number;
  let asB: number;

  const apply = async (instanceId: number) => {
    await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId }));
    return applyLoadBalancer(deps, { loadBalancerId: lb.id });
  };
  const setActive = (id: number, isActive: boolean) => deps.db.appServer.update({ where: { id }, data: { isActive } });
  const liveFiles = () => [readFileSync(lb.configPath, "utf8"), readFileSync(lb.mapPath, "utf8")];

  beforeAll(async () => {
    port = await freePort();
    deps = await createTestDeps({ LB_HTTP_PORT: String(port), HAPROXY_TIMEOUT_SECONDS: "20" });
    lb = await makeLoadBalancer(deps);
    site = await makeInstance(deps, { loadBalancerId: lb.id, externalDomains: ["Courses.Example.ORG"] });
    idle = await makeInstance(deps, { loadBalancerId: lb.id });
    const auth = basicAuthFor(deps.secrets, site);
    a = await new FakeAppServer("A", auth).start();
    b = await new FakeAppServer("B", auth).start();
    const running = { status: "running", publicIp: "127.0.0.1" } as const;
    asA = (await makeAppServer(deps, site.id, { ...running, configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: a.port } } })).id;
    asB = (await makeAppServer(deps, site.id, { ...running, configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: b.port } } })).id;
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await disposeLoadBalancer(lb);
    await deps?.close();
  });

  it("sends an instance's domains to its active appserver, logged in with the instance's basic auth", async () => {
    await setActive(asA, true);
    const result = await apply(site.id);
    expect(result.outcome).toBe("applied");
    expect(result.deployedVersion).toBe(result.configurationVersion);

    const home = await lbGet(port, site.internalLmsDomain);
    expect(home.status).toBe(200);
    expect(home.text).toBe("served by A");
    expect(a.pageRequests().at(-1)!.authorization).toBe(a.expectedAuthorization);
    // Any case, with a port, and the external domain too.
    expect((await lbGet(port, `${site.studioDomain.toUpperCase()}:${port}`)).text).toBe("served by A");
    expect((await lbGet(port, "courses.example.org")).text).toBe("served by A");

    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row.lastError).toBe("");
    expect(row.lastAppliedAt).not.toBeNull();
  });

  it("health-checks /heartbeat with the instance's Host and basic auth", async () => {
    await eventually(() => a.heartbeats().length > 0, "a health check reached appserver A");
    expect(a.heartbeats()[0]).toMatchObject({ host: site.internalLmsDomain, authorization: a.expectedAuthorization });
  });

  it("keeps an Authorization header the client sent instead of injecting the instance's", async () => {
    const someoneElse = `Basic ${Buffer.from("mallory:guess").toString("base64")}`;
    const res = await lbGet(port, site.internalLmsDomain, { headers: { authorization: someoneElse } });
    expect(res.status).toBe(401);
    expect(res.text).toBe("wrong password");
    expect(a.pageRequests().at(-1)!.authorization).toBe(someoneElse);
  });

  it("sets X-Forwarded-For and X-Forwarded-Proto itself, replacing what a client forged, and passes Host as the client sent it", async () => {
    const host = `${site.studioDomain.toUpperCase()}:${port}`;
    const res = await lbGet(port, host, { headers: { "x-forwarded-for": "203.0.113.66, 10.0.0.1", "x-forwarded-proto": "https" } });
    expect(res.text).toBe("served by A");
    const seen = a.pageRequests().at(-1)!;
    expect(seen.host).toBe(host);
    // lbGet connects from 127.0.0.1, over plain HTTP.
    expect(seen.forwardedFor).toEqual(["127.0.0.1"]);
    expect(seen.forwardedProto).toEqual(["http"]);
    const plain = await lbGet(port, site.internalLmsDomain);
    expect(plain.text).toBe("served by A");
    expect(a.pageRequests().at(-1)).toMatchObject({ host: site.internalLmsDomain, forwardedFor: ["127.0.0.1"], forwardedProto: ["http"] });
  });

  it("keeps a visitor on one appserver with the sticky cookie, and moves traffic when the active appservers change", async () => {
    await setActive(asB, true);
    await apply(site.id);
    const first = await lbGet(port, site.internalLmsDomain);
    const cookie = String(first.headers["set-cookie"]).split(";")[0]!;
    expect(cookie).toMatch(new RegExp(`^OCIMSRV=${lb.fragmentName}-as-(${asA}|${asB})$`));
    for (let i = 0; i < 4; i++) expect((await lbGet(port, site.internalLmsDomain, { headers: { cookie } })).text).toBe(first.text);
    const both = new Set<string>();
    for (let i = 0; i < 6; i++) both.add((await lbGet(port, site.internalLmsDomain)).text);
    expect([...both].sort()).toEqual(["served by A", "served by B"]);

    await setActive(asA, false);
    await apply(site.id);
    const aCookie = `OCIMSRV=${lb.fragmentName}-as-${asA}`;
    for (let i = 0; i < 4; i++) expect((await lbGet(port, site.internalLmsDomain, { headers: { cookie: aCookie } })).text).toBe("served by B");
  });

  it("stops sending traffic to an appserver whose heartbeat fails", async () => {
    await setActive(asA, true);
    await apply(site.id);
    a.healthy = false;
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await lbGet(port, site.internalLmsDomain)).text);
      return seen.size === 1 && seen.has("served by B");
    }, "haproxy marked A down and sends everything to B");
    a.healthy = true;
    await setActive(asA, false);
    await apply(site.id);
  });

  it("shows the maintenance page for an instance without an active appserver, and 404 for an unknown host", async () => {
    const down = await lbGet(port, idle.internalLmsDomain);
    expect(down.status).toBe(503);
    expect(down.text).toContain("This site is down for maintenance");
    expect(down.headers["retry-after"]).toBe("120");
    const unknown = await lbGet(port, "nobody.example.net");
    expect(unknown.status).toBe(404);
    expect(unknown.text).toContain("No site is configured for this address");
  });

  it("answers every domain of an instance in maintenance with a 503 page naming it, while ACME challenges still get through", async () => {
    const maintenance = (on: boolean) => setMaintenance(deps, { instance: site.id, actor: { id: null, login: "alice" }, on });
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by B");
    await maintenance(true);
    await applyLoadBalancer(deps, { loadBalancerId: lb.id });
    const seenByB = b.pageRequests().length;
    for (const domain of allDomains(site)) {
      const down = await lbGet(port, domain, { path: "/courses" });
      expect(down.status).toBe(503);
      expect(down.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(down.headers["retry-after"]).toBe("120");
      expect(down.text).toContain(`<title>${site.name}: down for maintenance</title>`);
      expect(down.text).toContain(`<h1>${site.name} is under maintenance</h1>`);
    }
    expect(b.pageRequests()).toHaveLength(seenByB);
    // The CA's HTTP-01 validation (a renewal during maintenance) is answered before any backend.
    const challenges = localChallengeMap(lb);
    await challenges.publish("tok-maint", "tok-maint.thumbprint");
    const challenge = await lbGet(port, site.studioDomain, { path: "/.well-known/acme-challenge/tok-maint" });
    expect([challenge.status, challenge.text]).toEqual([200, "tok-maint.thumbprint"]);
    await challenges.remove("tok-maint");
    // Another instance on the same balancer is untouched.
    expect((await lbGet(port, idle.internalLmsDomain)).text).toContain("This site is down for maintenance");

    await maintenance(false);
    await applyLoadBalancer(deps, { loadBalancerId: lb.id });
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by B");
  });

  it("never replaces the running config with one haproxy refuses, and says why", async () => {
    await setActive(asB, true);
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    const before = liveFiles();
    const broken = await makeAppServer(deps, idle.id, { status: "running", publicIp: "10.0.0.999", isActive: true });
    const error = await apply(idle.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("conflict");
    expect((error as AppError).message).toContain("the previous one stays in place");

    expect(liveFiles()).toEqual(before);
    expect(readdirSync(path.dirname(lb.configPath)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row.lastError).toContain("could not resolve address '10.0.0.999'");
    expect(row.lastError).toMatch(new RegExp(`^haproxy -c refused version ${row.configurationVersion}: \\[${lb.configPath}:\\d+\\] : 'server ${lb.fragmentName}-inst-${idle.id}/as-${broken.id}-10.0.0.999-\\d+' : could not resolve address '10.0.0.999'`));
    expect(row.deployedVersion).toBe(row.configurationVersion - 1);
    expect(sample(await deps.metrics.registry.metrics(), "ocim_lb_apply_errors_total", { balancer: row.name })).toBe(1);
    expect(sample(await deps.metrics.registry.metrics(), "ocim_lb_apply_duration_seconds_count", { balancer: row.name, outcome: "failed" })).toBe(1);
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by B");
    expect((await lbGet(port, idle.internalLmsDomain)).status).toBe(503);

    await setActive(broken.id, false);
    await apply(idle.id);
    const fixed = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(fixed.lastError).toBe("");
    expect(fixed.deployedVersion).toBe(fixed.configurationVersion);
    expect(sample(await deps.metrics.registry.metrics(), "ocim_lb_apply_duration_seconds_count", { balancer: fixed.name, outcome: "applied" })).toBeGreaterThanOrEqual(2);
  });

  it("keeps traffic flowing while it reloads, on new and on keep-alive connections", async () => {
    await setActive(asB, true);
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    let stop = false;
    const statuses = new Map<string, number>();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const load = Array.from({ length: 4 }, async (_, i) => {
      const agent = i % 2 === 0 ? keepAlive : undefined;
      while (!stop) {
        const key = await lbGet(port, site.internalLmsDomain, { agent }).then((r) => String(r.status), (e: NodeJS.ErrnoException) => e.code ?? "error");
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    });
    for (let i = 0; i < 5; i++) await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    stop = true;
    await Promise.all(load);
    keepAlive.destroy();
    expect([...statuses.keys()]).toEqual(["200"]);
    expect(statuses.get("200")).toBeGreaterThan(20);
  });

  it("ends with the newest version live after 20 concurrent changes, each applying", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await deps.db.$transaction(async (tx) => {
          await tx.instance.update({ where: { id: site.id }, data: { externalDomains: [`edition-${i}.example.org`] } });
          await bumpConfiguration(tx, { instanceId: site.id });
        });
        return applyLoadBalancer(deps, { loadBalancerId: lb.id });
      }),
    );
    expect(new Set(results.map((r) => r.outcome))).not.toContain("pending");
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row.deployedVersion).toBe(row.configurationVersion);
    const fresh = renderFragment((await loadRenderInput(deps, lb.id)).input);
    expect(liveFiles()).toEqual([Buffer.concat(localConfigFile(deps.config, fresh, lb)).toString(), fresh.map.toString()]);
    const current = (await deps.db.instance.findUniqueOrThrow({ where: { id: site.id } })).externalDomains[0]!;
    expect((await lbGet(port, current)).text).toBe("served by B");
  });

  it("refuses to apply a balancer reached over SSH without the key to log in with, and records why", async () => {
    const remote = await makeLoadBalancer(deps, {
      kind: "ssh", host: "lb.example.net", sshUser: "ocim", reloadCommand: "sudo systemctl reload haproxy",
      configurationVersion: 1, configPath: "/etc/haproxy/ocim.cfg", mapPath: "/etc/haproxy/ocim.map",
    });
    const error = (await applyLoadBalancer(deps, { loadBalancerId: remote.id }).catch((e: unknown) => e)) as AppError;
    expect(error.code).toBe("unavailable");
    expect(error.message).toContain("is reached over SSH: set LB_SSH_KEY_FILE to the private key Ocim logs in with.");
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: remote.id } });
    expect(row.lastError).toBe(error.message);
    expect(row.deployedVersion).toBe(0);
  });

  it("gives up on a balancer host that refuses SSH after HAPROXY_TIMEOUT_SECONDS, not the VMs' much longer SSH_CONNECT_TIMEOUT_SECONDS", async () => {
    const keyDir = mkdtempSync(path.join(os.tmpdir(), "ocim-lbkey-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(keyDir, "key")]);
    const closed = await freePort();
    const remote = await makeLoadBalancer(deps, {
      kind: "ssh", host: "127.0.0.1", sshPort: closed, sshUser: "ocim", reloadCommand: "sudo systemctl reload haproxy",
      configurationVersion: 1, configPath: "/etc/haproxy/ocim-gone.cfg", mapPath: "/etc/haproxy/ocim-gone.map",
    });
    const quick = { ...deps, config: { ...deps.config, LB_SSH_KEY_FILE: path.join(keyDir, "key"), HAPROXY_TIMEOUT_SECONDS: 2, SSH_CONNECT_TIMEOUT_SECONDS: 8 } } as TestDeps;
    try {
      const error = (await applyLoadBalancer(quick, { loadBalancerId: remote.id }).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(new RegExp(`^Could not connect to ocim@127\\.0\\.0\\.1:${closed} within 2 s: connection refused`));
      expect((await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: remote.id } })).lastError).toBe(error.message);
    } finally {
      rmSync(keyDir, { recursive: true, force: true });
    }
  });

  it("says on the balancer's page while an apply is in progress, so an older error there is not taken for its outcome", async () => {
    const remote = await makeLoadBalancer(deps, {
      kind: "ssh", host: "lb.example.net", sshUser: "ocim", reloadCommand: "sudo systemctl reload haproxy", lastError: "Could not connect to ocim@lb.example.net:22 within 30 s: connection refused (9 attempts).",
      configPath: "/etc/haproxy/ocim-busy.cfg", mapPath: "/etc/haproxy/ocim-busy.map",
    });
    const web = await serveAs(deps);
    const page = async () => visibleText((await web.agent.get(`/admin/load-balancers/${remote.id}`)).text);
    try {
      const lock = await tryLock(deps.redis, loadBalancerLockKey(remote.id), 10_000);
      expect(await page()).toContain("Applying now yes: an apply is in progress; an error below is from an earlier one Last error Could not connect");
      await lock!.release();
      expect(await page()).toContain("Applying now — Last error Could not connect");
    } finally {
      await web.close();
    }
  });

  it("leaves the error of a balancer alone when an apply fails after a newer version went live", async () => {
    // Version 3 is live (another apply took over while this one's lock expired); this one renders
    // version 2, forced, and fails: its error is about a configuration the balancer no longer has.
    const remote = await makeLoadBalancer(deps, {
      kind: "ssh", host: "lb.example.net", sshUser: "ocim", reloadCommand: "sudo systemctl reload haproxy",
      configurationVersion: 2, deployedVersion: 3, configPath: "/etc/haproxy/ocim-late.cfg", mapPath: "/etc/haproxy/ocim-late.map",
    });
    const error = (await applyLoadBalancer(deps, { loadBalancerId: remote.id, force: true }).catch((e: unknown) => e)) as AppError;
    expect(error.message).toContain("set LB_SSH_KEY_FILE");
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: remote.id } });
    expect(row.lastError).toBe("");
    expect(row.deployedVersion).toBe(3);
  });

  it("keeps the running haproxy and says so when a reload cannot take the new config", async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    try {
      // A port someone else holds passes `haproxy -c` (which binds nothing) but fails the reload.
      const moved = { ...deps, config: { ...deps.config, LB_HTTP_PORT: (busy.address() as AddressInfo).port } };
      const error = (await applyLoadBalancer(moved, { loadBalancerId: lb.id, force: true }).catch((e: unknown) => e)) as AppError;
      expect(error.code).toBe("unavailable");
      expect(error.message).toMatch(/^HAProxy refused to reload and keeps the previous configuration: .*cannot bind socket/);
      expect((await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } })).lastError).toBe(error.message);
      expect((await lbGet(port, site.internalLmsDomain)).status).toBe(200);
    } finally {
      busy.close();
    }
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    expect((await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } })).lastError).toBe("");
  });

  it("says why when haproxy cannot start", async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", () => r()));
    await stopLocalHaproxy(localRuntimePaths(lb.configPath));
    try {
      const moved = { ...deps, config: { ...deps.config, LB_HTTP_PORT: (busy.address() as AddressInfo).port } };
      const error = (await applyLoadBalancer(moved, { loadBalancerId: lb.id, force: true }).catch((e: unknown) => e)) as AppError;
      expect(error.code).toBe("unavailable");
      expect(error.message).toMatch(/^HAProxy did not start: .*cannot bind socket \(Address already in use\)/);
      expect((await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } })).lastError).toBe(error.message);
    } finally {
      busy.close();
    }
    await applyLoadBalancer(deps, { loadBalancerId: lb.id, force: true });
    expect((await lbGet(port, site.internalLmsDomain)).status).toBe(200);
  });

  it("refuses a second local balancer, which could only fight the first for the port", async () => {
    const other = await makeLoadBalancer(deps, { configurationVersion: 1 });
    try {
      const error = (await applyLoadBalancer(deps, { loadBalancerId: other.id }).catch((e: unknown) => e)) as AppError;
      expect(error.code).toBe("conflict");
      expect(error.message).toBe(`Only one local load balancer can run on this host (they all listen on port ${port}), and ${lb.name} is local too. Make ${other.name} an ssh balancer or delete one of them.`);
      expect(readdirSync(path.dirname(other.configPath))).toEqual([]);
    } finally {
      await deps.db.loadBalancer.delete({ where: { id: other.id } });
      removeLoadBalancerFiles(other);
    }
  });

  it("re-applies a balancer left dirty and restarts a local haproxy that stopped, on the periodic pass", async () => {
    await stopLocalHaproxy(localRuntimePaths(lb.configPath));
    await expect(lbGet(port, site.internalLmsDomain)).rejects.toThrow(/ECONNREFUSED/);
    let outcome = (await reconcileLoadBalancers(deps)).find((o) => o.loadBalancerId === lb.id);
    expect(outcome?.result?.outcome).toBe("applied");
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by B");

    await setActive(asA, true);
    await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId: site.id }));
    outcome = (await reconcileLoadBalancers(deps)).find((o) => o.loadBalancerId === lb.id);
    expect(outcome?.result).toMatchObject({ outcome: "applied", deployedVersion: outcome?.result?.configurationVersion });
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await lbGet(port, site.internalLmsDomain)).text);
    expect([...seen].sort()).toEqual(["served by A", "served by B"]);
    expect((await reconcileLoadBalancers(deps)).find((o) => o.loadBalancerId === lb.id)).toBeUndefined();
  });
});
