// A `local` balancer writes only inside LOCAL_LB_DIR (issue 10, finding 3), and only one local
// balancer can exist (finding 7a): refused in the admin form next to the field, and refused again
// when a row stored before the rule (or a directory changed since) is applied.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../src/errors.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { saveLoadBalancer } from "../src/domain/loadbalancer/save-load-balancer.js";
import { localRuntimePaths, stopLocalHaproxy } from "../src/adapters/haproxy/local-process.js";
import { startTestApp, type TestApp } from "./helpers/app.js";
import { fieldError, visibleText, type Agent } from "./helpers/browserless.js";

describe("where a local load balancer may write", () => {
  let t: TestApp;
  let admin: Agent;
  let lbDir: string;
  let outside: string;
  const passwd = "root:x:0:0:root:/root:/bin/bash\n";

  beforeAll(async () => {
    lbDir = mkdtempSync(path.join(os.tmpdir(), "ocim-lbd-"));
    outside = mkdtempSync(path.join(os.tmpdir(), "ocim-out-"));
    writeFileSync(path.join(outside, "passwd"), passwd);
    t = await startTestApp({ LOCAL_LB_DIR: lbDir });
    admin = await t.loginAs("root", { admin: true });
  });
  afterAll(async () => {
    // Only if a refusal regressed would a haproxy run here; never leave one behind.
    for (const lb of (await t?.deps.db.loadBalancer.findMany({ where: { kind: "local" } })) ?? []) await stopLocalHaproxy(localRuntimePaths(lb.configPath)).catch(() => {});
    await stopLocalHaproxy(localRuntimePaths(path.join(outside, "passwd"))).catch(() => {});
    await t?.close();
    rmSync(lbDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const form = (o: Record<string, string> = {}) => ({
    name: "edge", kind: "local", fragmentName: "edge", configPath: `${lbDir}/haproxy.cfg`, mapPath: `${lbDir}/domains.map`,
    reloadCommand: "", host: "", sshUser: "", sshPort: "", ...o,
  });
  const outsideUntouched = () => {
    expect(readdirSync(outside)).toEqual(["passwd"]);
    expect(readFileSync(path.join(outside, "passwd"), "utf8")).toBe(passwd);
  };
  const refused = async (values: Record<string, string>, field: string, message: string) => {
    const res = await admin.submit("/admin/load-balancers/add", form(values));
    expect(res.status).toBe(400);
    expect(visibleText(res.text)).toContain("Nothing was saved.");
    expect(fieldError(res.text, field)).toBe(message);
    expect(res.text).toContain(`value="${values[field]}"`);
    expect(await t.deps.db.loadBalancer.count()).toBe(0);
  };

  it("refuses a file outside the directory, next to the field, and saves nothing", async () => {
    const message = `A local load balancer's files must be inside ${lbDir} (the LOCAL_LB_DIR setting), e.g. ${lbDir}/haproxy.cfg.`;
    await refused({ configPath: "/etc/passwd" }, "configPath", message);
    await refused({ mapPath: `${outside}/passwd` }, "mapPath", message);
    // The directory itself is not a file in it; a sibling with the same prefix is not inside it.
    await refused({ configPath: lbDir }, "configPath", message);
    await refused({ configPath: `${lbDir}-evil/haproxy.cfg` }, "configPath", message);
    outsideUntouched();
  });

  it("refuses a path that leaves the directory through a symbolic link", async () => {
    symlinkSync(outside, path.join(lbDir, "escape"));
    symlinkSync(path.join(outside, "passwd"), path.join(lbDir, "linked.cfg"));
    const message = (file: string) => `${file} leads out of ${lbDir} through a symbolic link.`;
    await refused({ configPath: `${lbDir}/escape/haproxy.cfg` }, "configPath", message(`${lbDir}/escape/haproxy.cfg`));
    await refused({ configPath: `${lbDir}/escape/new/haproxy.cfg` }, "configPath", message(`${lbDir}/escape/new/haproxy.cfg`));
    await refused({ mapPath: `${lbDir}/linked.cfg` }, "mapPath", message(`${lbDir}/linked.cfg`));
    outsideUntouched();
    rmSync(path.join(lbDir, "escape"));
    rmSync(path.join(lbDir, "linked.cfg"));
  });

  it("leaves an ssh balancer's paths free: they are on its own host", async () => {
    const res = await admin.submit("/admin/load-balancers/add", form({
      name: "remote", kind: "ssh", fragmentName: "remote", host: "lb.example.net", sshUser: "ocim", sshPort: "22",
      configPath: "/etc/haproxy/ocim.cfg", mapPath: "/etc/haproxy/ocim.map", reloadCommand: "sudo systemctl reload haproxy",
    }));
    expect(visibleText(res.text)).toContain('The load balancer "remote" was added.');
  });

  it("refuses a second local balancer next to the kind, naming the first, and still saves the first", async () => {
    const first = await admin.submit("/admin/load-balancers/add", form({ configPath: `${lbDir}/sub/haproxy.cfg` }));
    expect(visibleText(first.text)).toContain('The load balancer "edge" was added.');
    const edge = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "edge" } });
    const before = await t.deps.db.loadBalancer.findMany({ orderBy: { id: "asc" } });
    const message = `Only one local load balancer can run on this host (each listens on port ${t.deps.config.LB_HTTP_PORT}), and "edge" is local already. Choose ssh, or change "edge" instead.`;

    const second = await admin.submit("/admin/load-balancers/add", form({ name: "edge2", fragmentName: "edge2", configPath: `${lbDir}/two.cfg`, mapPath: `${lbDir}/two.map` }));
    expect(second.status).toBe(400);
    expect(fieldError(second.text, "kind")).toBe(message);
    const remote = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "remote" } });
    const turned = await admin.submit(`/admin/load-balancers/${remote.id}`, form({ name: "remote", fragmentName: "remote", configPath: `${lbDir}/two.cfg`, mapPath: `${lbDir}/two.map` }), `/admin/load-balancers/${remote.id}`);
    expect(turned.status).toBe(400);
    expect(fieldError(turned.text, "kind")).toBe(message);
    expect(await t.deps.db.loadBalancer.findMany({ orderBy: { id: "asc" } })).toEqual(before);

    // The local one itself can still be changed.
    const edited = await admin.submit(`/admin/load-balancers/${edge.id}`, form({ mapPath: `${lbDir}/sub/other.map`, configPath: `${lbDir}/sub/haproxy.cfg` }), `/admin/load-balancers/${edge.id}`);
    expect(visibleText(edited.text)).toContain('The load balancer "edge" was saved.');
  });

  it("refuses to apply a stored local balancer whose files are outside, writing nothing, and says why on its page", async () => {
    await t.deps.db.loadBalancer.deleteMany({ where: { kind: "local" } });
    // As an old row would hold it: saved before the directory rule.
    const lb = await t.deps.db.loadBalancer.create({
      data: { name: "old", kind: "local", configPath: path.join(outside, "passwd"), mapPath: path.join(outside, "domains.map"), reloadCommand: "", fragmentName: "old", configurationVersion: 1 },
    });
    const message = `Load balancer old writes ${outside}/passwd, outside ${lbDir} (the LOCAL_LB_DIR setting), so it is not applied: move its files into that directory, or make it an ssh balancer.`;
    // Said on its page before any apply has tried.
    expect(visibleText((await admin.get(`/admin/load-balancers/${lb.id}`)).text)).toContain(`Files ${message}`);
    const error = (await applyLoadBalancer(t.deps, { loadBalancerId: lb.id }).catch((e: unknown) => e)) as AppError;
    expect(error).toBeInstanceOf(AppError);
    expect(error.message).toBe(message);
    outsideUntouched();
    const row = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row).toMatchObject({ lastError: message, deployedVersion: 0 });
    expect(visibleText((await admin.get(`/admin/load-balancers/${lb.id}`)).text)).toContain(`Last error ${message}`);
    await t.deps.db.loadBalancer.delete({ where: { id: lb.id } });
  });

  it("refuses to apply when a directory became a link out after the save, writing nothing", async () => {
    const saved = await admin.submit("/admin/load-balancers/add", form({ name: "moved", fragmentName: "moved", configPath: `${lbDir}/moved/haproxy.cfg`, mapPath: `${lbDir}/moved/domains.map` }));
    expect(visibleText(saved.text)).toContain('The load balancer "moved" was added.');
    const lb = await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { name: "moved" } });
    mkdirSync(lbDir, { recursive: true });
    symlinkSync(outside, path.join(lbDir, "moved"));
    const error = (await applyLoadBalancer(t.deps, { loadBalancerId: lb.id, force: true }).catch((e: unknown) => e)) as AppError;
    expect(error.message).toBe(`Load balancer moved writes ${lbDir}/moved/haproxy.cfg, which leads out of ${lbDir} through a symbolic link, so it is not applied.`);
    outsideUntouched();
    expect((await t.deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } })).lastError).toBe(error.message);
  });

  it("keeps to one local balancer when several are saved at the same moment", async () => {
    await t.deps.db.loadBalancer.deleteMany({ where: { kind: "local" } });
    const actor = { id: null, login: "test" };
    const saves = await Promise.allSettled([1, 2, 3, 4, 5].map((n) =>
      saveLoadBalancer(t.deps, { actor, values: form({ name: `race${n}`, fragmentName: `race${n}`, configPath: `${lbDir}/race${n}.cfg`, mapPath: `${lbDir}/race${n}.map` }) })));
    expect(saves.filter((s) => s.status === "fulfilled")).toHaveLength(1);
    expect(await t.deps.db.loadBalancer.count({ where: { kind: "local" } })).toBe(1);
  });
});
