// What the load balancer config says, from the database rows (and real `haproxy -c` on the result).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Prisma } from "../src/db.js";
import { AppError } from "../src/errors.js";
import { checkConfig, resolveHaproxyBin } from "../src/adapters/haproxy/check-config.js";
import { createLocalTarget } from "../src/adapters/haproxy/local.js";
import { basicAuthFor, newInstanceSecret } from "../src/domain/instances/secret.js";
import { renderFragment, sharedFrontendRule, type LbInstance } from "../src/domain/loadbalancer/render-config.js";
import { renderLocalConfig } from "../src/adapters/haproxy/local-config.js";
import type { RenderedFragment } from "../src/adapters/haproxy/port.js";
import { loadRenderInput } from "../src/domain/loadbalancer/render-input.js";
import { bumpConfiguration } from "../src/domain/loadbalancer/bump-configuration.js";
import { ByteWriter } from "../src/domain/loadbalancer/byte-writer.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { makeLoadBalancer, removeLoadBalancerFiles } from "./helpers/lb.js";

const instance = (id: number, appServers: LbInstance["appServers"], domains = [`site${id}.example.test`]): LbInstance => ({
  id,
  domains,
  healthHost: domains[0]!,
  authorization: `Basic ${Buffer.from(`user${id}:pass${id}`).toString("base64")}`,
  appServers,
});

/** The rendered files as text, to read like a person would. */
const text = (f: RenderedFragment) => ({ map: f.map.toString(), backends: f.backends.toString() });
const mapLines = (map: string) => map.split("\n").filter((l) => l && !l.startsWith("#"));
const backendNamesIn = (backends: string) => [...backends.matchAll(/^backend (\S+)$/gm)].map((m) => m[1]!);

describe("rendering the load balancer config", () => {
  let deps: TestDeps;
  let dir: string;
  beforeAll(async () => {
    deps = await createTestDeps();
    dir = mkdtempSync(path.join(os.tmpdir(), "ocim-lbr-"));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deps.close();
  });

  it("routes every domain of an instance to its backend, with one server line per active appserver, from the database", async () => {
    const lb = await makeLoadBalancer(deps);
    const site = await makeInstance(deps, { loadBalancerId: lb.id, externalDomains: ["WWW.Example.COM"] });
    const active = await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "10.1.2.3" });
    const demo = await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "127.0.0.5", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: 18001 } } });
    await makeAppServer(deps, site.id, { status: "running", isActive: false, publicIp: "10.9.9.1" });
    await makeAppServer(deps, site.id, { status: "failed", isActive: true, publicIp: "10.9.9.2" });
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: null });
    await makeInstance(deps, { loadBalancerId: lb.id, isArchived: true });
    await makeInstance(deps); // on no balancer

    const { input } = await loadRenderInput(deps, lb.id);
    const out = text(renderFragment(input));
    const backend = `${lb.fragmentName}-inst-${site.id}`;
    expect(mapLines(out.map)).toEqual(
      [site.internalLmsDomain, site.studioDomain, site.previewDomain, site.ecommerceDomain, site.discoveryDomain, site.appsDomain, "www.example.com"].map((d) => `${d} ${backend}`),
    );
    const { user, password } = basicAuthFor(deps.secrets, site);
    const auth = `"Basic ${Buffer.from(`${user}:${password}`).toString("base64")}"`;
    expect(out.backends).toContain(
      [
        `backend ${backend}`,
        `  # ${site.internalLmsDomain}`,
        "  balance roundrobin",
        "  option redispatch",
        "  cookie OCIMSRV insert indirect nocache httponly",
        "  http-request del-header X-Forwarded-For",
        "  option forwardfor",
        "  http-request set-header X-Forwarded-Proto https if { ssl_fc }",
        "  http-request set-header X-Forwarded-Proto http unless { ssl_fc }",
        `  http-request set-header Authorization ${auth} unless { req.hdr(authorization) -m found }`,
        "  option httpchk",
        `  http-check send meth GET uri /heartbeat ver HTTP/1.1 hdr Host ${site.internalLmsDomain} hdr Authorization ${auth}`,
        "  http-check expect status 200",
        `  server as-${active.id}-10.1.2.3-80 10.1.2.3:80 check cookie ${lb.fragmentName}-as-${active.id}`,
        `  server as-${demo.id}-127.0.0.5-18001 127.0.0.5:18001 check cookie ${lb.fragmentName}-as-${demo.id}`,
        "",
      ].join("\n"),
    );
    expect(out.backends.match(/^ {2}server /gm)).toHaveLength(2);
    expect(backendNamesIn(out.backends)).toEqual([`${lb.fragmentName}-maintenance`, backend]);
    removeLoadBalancerFiles(lb);
  });

  it("sends each appserver's traffic to the port its recipe serves on", async () => {
    const lb = await makeLoadBalancer(deps);
    const site = await makeInstance(deps, { loadBalancerId: lb.id });
    const serving = { status: "running", isActive: true, publicIp: "10.1.2.3" } as const;
    const v2 = (recipe: string, variables: Prisma.InputJsonObject) => ({ ...serving, configSnapshot: { version: 2, recipe, variables } });
    const ports = [
      // Tutor: Caddy serves every host on CADDY_HTTP_PORT (Tutor's setting, 80 by default).
      await makeAppServer(deps, site.id, v2("tutor", { TUTOR_CONFIG: { CADDY_HTTP_PORT: 8081 }, EDXAPP_LMS_NGINX_PORT: 18000 })),
      await makeAppServer(deps, site.id, v2("tutor", { TUTOR_CONFIG: { LMS_HOST: site.internalLmsDomain } })),
      // Native: nginx serves the LMS, Studio and the MFEs on 80 by host name, whatever the LMS's own port.
      await makeAppServer(deps, site.id, v2("native", { EDXAPP_LMS_NGINX_PORT: 18000 })),
      // Custom, and a version-1 snapshot (read as custom): the Open edX setting, as before.
      await makeAppServer(deps, site.id, v2("custom", { EDXAPP_LMS_NGINX_PORT: 18001 })),
      await makeAppServer(deps, site.id, { ...serving, configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: 18002 } } }),
    ].map((a) => a.id);
    const { input } = await loadRenderInput(deps, lb.id);
    const servers = [...text(renderFragment(input)).backends.matchAll(/^ {2}server as-(\d+)-\S+ (\S+) /gm)].map((m) => [Number(m[1]), m[2]]);
    expect(servers).toEqual([
      [ports[0], "10.1.2.3:8081"], [ports[1], "10.1.2.3:80"], [ports[2], "10.1.2.3:80"], [ports[3], "10.1.2.3:18001"], [ports[4], "10.1.2.3:18002"],
    ]);
    removeLoadBalancerFiles(lb);
  });

  it("follows changed domains and a new instance secret on the next render: nothing stale is reused", async () => {
    const lb = await makeLoadBalancer(deps);
    const site = await makeInstance(deps, { loadBalancerId: lb.id });
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "10.1.2.4" });
    const render = async () => text(renderFragment((await loadRenderInput(deps, lb.id)).input));
    const authOf = (row: { id: number; secretKeyEncrypted: string }) => {
      const { user, password } = basicAuthFor(deps.secrets, row);
      return `set-header Authorization "Basic ${Buffer.from(`${user}:${password}`).toString("base64")}"`;
    };
    const before = await render();
    expect(before.backends).toContain(authOf(site));
    expect(mapLines(before.map)).toContain(`${site.studioDomain} ${lb.fragmentName}-inst-${site.id}`);

    // One change at a time: each must show on its own.
    await deps.db.instance.update({
      where: { id: site.id },
      data: { studioDomain: `Learn-Studio.${site.internalLmsDomain}`, externalDomains: ["WWW.Follow.example.org"] },
    });
    const moved = await render();
    expect(mapLines(moved.map)).toContain(`learn-studio.${site.internalLmsDomain} ${lb.fragmentName}-inst-${site.id}`);
    expect(mapLines(moved.map)).toContain(`www.follow.example.org ${lb.fragmentName}-inst-${site.id}`);
    expect(mapLines(moved.map)).not.toContain(`${site.studioDomain} ${lb.fragmentName}-inst-${site.id}`);
    expect(moved.backends).toContain(authOf(site));

    const rekeyed = await deps.db.instance.update({ where: { id: site.id }, data: { secretKeyEncrypted: newInstanceSecret(deps.secrets) } });
    const after = await render();
    expect(after.backends).toContain(authOf(rekeyed));
    expect(after.backends).not.toContain(authOf(site));
    expect(after.map).toEqual(moved.map);
    removeLoadBalancerFiles(lb);
  });

  it("maps an instance without an active appserver to the maintenance backend, which answers 503", () => {
    const out = text(renderFragment({ fragmentName: "ocim", instances: [instance(4, [])] }));
    expect(mapLines(out.map)).toEqual(["site4.example.test ocim-maintenance"]);
    expect(backendNamesIn(out.backends)).toEqual(["ocim-maintenance"]);
    expect(out.backends).toMatch(/^ {2}http-request return status 503 content-type "text\/html; charset=utf-8" .* string '<!doctype html>.*This site is down for maintenance.*'$/m);
  });

  it("sends every domain of an instance in maintenance to a page naming it, whatever is active, and haproxy accepts any name", async () => {
    const lb = await makeLoadBalancer(deps);
    const name = `Tom's <b>"Academy"</b> & co\nbackend evil`;
    const site = await makeInstance(deps, { name, loadBalancerId: lb.id, maintenanceSince: new Date(), maintenanceBy: "alice" });
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "10.1.2.3" });
    const out = text(renderFragment((await loadRenderInput(deps, lb.id)).input));
    const backend = `${lb.fragmentName}-maint-${site.id}`;
    expect(new Set(mapLines(out.map).map((l) => l.split(" ")[1]))).toEqual(new Set([backend]));
    expect(mapLines(out.map)).toHaveLength(6);
    expect(backendNamesIn(out.backends)).toEqual([`${lb.fragmentName}-maintenance`, backend]);
    expect(out.backends).not.toContain("server as-");
    const escaped = "Tom&#39;s &lt;b&gt;&quot;Academy&quot;&lt;/b&gt; &amp; co backend evil";
    expect(out.backends).toContain(`<h1>${escaped} is under maintenance</h1>`);
    expect(out.backends).not.toMatch(/^backend evil/m);

    const mapPath = path.join(dir, "maint.map");
    const cfg = Buffer.concat(renderLocalConfig(renderFragment((await loadRenderInput(deps, lb.id)).input), { mapPath, bind: "127.0.0.1", port: 8080, statsSocket: path.join(dir, "m.sock") }));
    writeFileSync(mapPath, out.map);
    writeFileSync(path.join(dir, "maint.cfg"), cfg);
    await expect(checkConfig(resolveHaproxyBin(undefined), [path.join(dir, "maint.cfg")], 20_000, {})).resolves.toBe("");

    // Out of maintenance, the active appserver serves again.
    await deps.db.instance.update({ where: { id: site.id }, data: { maintenanceSince: null, maintenanceBy: null } });
    const back = text(renderFragment((await loadRenderInput(deps, lb.id)).input));
    expect(mapLines(back.map)).toContain(`${site.internalLmsDomain} ${lb.fragmentName}-inst-${site.id}`);
    expect(back.backends).toContain("server as-");
    removeLoadBalancerFiles(lb);
  });

  it("keeps an instance's names when other instances come and go", () => {
    const seven = instance(7, [{ id: 70, ip: "10.0.0.7", httpPort: 80 }]);
    const alone = text(renderFragment({ fragmentName: "ocim", instances: [seven] }));
    const crowd = text(renderFragment({ fragmentName: "ocim", instances: [instance(3, [{ id: 30, ip: "10.0.0.3", httpPort: 80 }]), seven, instance(9, [])] }));
    const block = (text: string) => text.slice(text.indexOf("backend ocim-inst-7"), text.indexOf("\n\n", text.indexOf("backend ocim-inst-7")));
    expect(block(crowd.backends)).toBe(block(alone.backends));
    expect(block(alone.backends)).toContain("server as-70-10.0.0.7-80 10.0.0.7:80 check cookie ocim-as-70");
    expect(mapLines(crowd.map)).toContain("site7.example.test ocim-inst-7");
    expect(text(renderFragment({ fragmentName: "ocim", instances: [seven] }))).toEqual(alone);
  });

  it("lets two consoles share one haproxy: their fragments have no name in common and load together", async () => {
    const same = [instance(1, [{ id: 1, ip: "10.0.0.1", httpPort: 80 }]), instance(2, [])];
    const a = text(renderFragment({ fragmentName: "console-a", instances: same }));
    const b = text(renderFragment({ fragmentName: "console-b", instances: [instance(1, [{ id: 1, ip: "10.0.0.2", httpPort: 80 }], ["other1.example.test"])] }));
    expect(backendNamesIn(a.backends).filter((n) => backendNamesIn(b.backends).includes(n))).toEqual([]);
    const files = { mapA: path.join(dir, "a.map"), mapB: path.join(dir, "b.map"), main: path.join(dir, "main.cfg"), fa: path.join(dir, "a.cfg"), fb: path.join(dir, "b.cfg") };
    writeFileSync(files.mapA, a.map);
    writeFileSync(files.mapB, b.map);
    writeFileSync(files.fa, a.backends);
    writeFileSync(files.fb, b.backends);
    writeFileSync(
      files.main,
      ["defaults", "  mode http", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s", "frontend shared", "  bind 127.0.0.1:8080",
        `  ${sharedFrontendRule(files.mapA)}`, `  ${sharedFrontendRule(files.mapB)}`, "  default_backend console-a-maintenance", ""].join("\n"),
    );
    const bin = resolveHaproxyBin(undefined);
    await expect(checkConfig(bin, [files.main, files.fa, files.fb], 20_000, {})).resolves.toBe("");
    // The same fragment twice is what a clash looks like to haproxy.
    await expect(checkConfig(bin, [files.main, files.fa, files.fa], 20_000, {})).rejects.toThrow(/same name/);
  });

  it("writes a whole local haproxy.cfg that haproxy accepts, with IPv6 appservers bracketed", async () => {
    const out = renderFragment({ fragmentName: "ocim", instances: [instance(1, [{ id: 5, ip: "2001:db8::5", httpPort: 8000 }])] });
    const mapPath = path.join(dir, "local.map");
    const cfg = Buffer.concat(renderLocalConfig(out, { mapPath, bind: "::1", port: 8080, statsSocket: path.join(dir, "s.sock") })).toString();
    expect(cfg).toContain("  server as-5-2001:db8::5-8000 [2001:db8::5]:8000 check cookie ocim-as-5");
    expect(cfg).toContain("  bind [::1]:8080");
    expect(cfg).toContain(`  use_backend %[req.hdr(host),lower,word(1,:),map(${mapPath},ocim-unknown)]`);
    writeFileSync(mapPath, out.map);
    writeFileSync(path.join(dir, "local.cfg"), cfg);
    await expect(checkConfig(resolveHaproxyBin(undefined), [path.join(dir, "local.cfg")], 20_000, {})).resolves.toBe("");
  });

  it("writes large texts whole: across the writer's chunks, its Buffer's growth and multi-byte characters", () => {
    const pieces = Array.from({ length: 10_000 }, (_, i) => (i % 997 === 0 ? `é→${i}\n` : `piece-${i} `));
    const writer = new ByteWriter(16);
    for (const piece of pieces) writer.write(piece);
    expect(writer.toBuffer().equals(Buffer.from(pieces.join("")))).toBe(true);
    expect(new ByteWriter().toBuffer().length).toBe(0);
  });

  it("refuses input that would break the file instead of writing it", () => {
    const render = (instances: LbInstance[], fragmentName = "ocim") => () => renderFragment({ fragmentName, instances });
    const expectError = (fn: () => unknown, code: string, message: string) => {
      const err = (() => {
        try {
          fn();
        } catch (e) {
          return e;
        }
      })() as AppError;
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe(code);
      expect(err.message).toBe(message);
    };
    expectError(render([instance(1, [{ id: 2, ip: "10.0.0.1:80\n  server evil 6.6.6.6", httpPort: 80 }])]), "validation",
      'AppServer 2 has an invalid public IP "10.0.0.1:80\\n  server evil 6.6.6.6".');
    expectError(render([instance(1, [], ["bad domain.example.test"])]), "validation", 'Instance 1 has an invalid domain "bad domain.example.test".');
    expectError(render([], "Has Spaces"), "validation", 'The fragment name "Has Spaces" must be 1-40 lowercase letters, digits, "-" or "_".');
    expectError(render([instance(1, [{ id: 3, ip: "10.0.0.1", httpPort: 0 }])]), "validation", "AppServer 3 has an invalid HTTP port 0.");
    expectError(() => createLocalTarget(deps, { name: "main", configPath: "/srv/my lb/haproxy.cfg", mapPath: "/srv/lb/domains.map" }), "validation",
      'The config path of load balancer main must be an absolute path of letters, digits, ".", "_", "-" and "/" (got "/srv/my lb/haproxy.cfg").');
    expectError(() => createLocalTarget(deps, { name: "main", configPath: "/srv/lb/haproxy.cfg", mapPath: "domains.map" }), "validation",
      'The map path of load balancer main must be an absolute path of letters, digits, ".", "_", "-" and "/" (got "domains.map").');
  });

  it("bumps the version of an instance's balancer, and of the one it left, in the caller's transaction", async () => {
    const [from, to] = [await makeLoadBalancer(deps), await makeLoadBalancer(deps)];
    const moved = await makeInstance(deps, { loadBalancerId: to.id });
    const loose = await makeInstance(deps);
    const version = async (id: number) => (await deps.db.loadBalancer.findUniqueOrThrow({ where: { id } })).configurationVersion;

    expect(await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId: moved.id, formerLoadBalancerId: from.id }))).toEqual([to.id, from.id]);
    expect([await version(from.id), await version(to.id)]).toEqual([1, 1]);
    expect(await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId: loose.id }))).toEqual([]);
    // Rolled back with the change it belonged to.
    await deps.db.$transaction(async (tx) => {
      await bumpConfiguration(tx, { instanceId: moved.id });
      throw new Error("the change failed");
    }).catch(() => undefined);
    expect(await version(to.id)).toBe(1);
    for (const lb of [from, to]) removeLoadBalancerFiles(lb);
  });

  it("leaves no domain to two instances, whoever writes them: the database refuses it, so the map never has to", async () => {
    const owner = await makeInstance(deps, { externalDomains: ["shop.owner.test"] });
    const other = await makeInstance(deps);
    const taken = (await deps.db.instance.findUniqueOrThrow({ where: { id: owner.id } })).studioDomain;
    const refusal = (fn: () => Promise<unknown>) => fn().then(() => "written", (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);

    // Written straight to the table, past the commands' own check: another column, another case.
    expect(await refusal(() => deps.db.instance.update({ where: { id: other.id }, data: { externalDomains: [taken.toUpperCase()] } })))
      .toMatch(/^P2002: [\s\S]*fields: \(`domain`\)/);
    expect(await refusal(() => makeInstance(deps, { internalLmsDomain: "shop.owner.test" }))).toMatch(/^P2002: /);
    expect(await refusal(() => deps.db.$executeRaw`UPDATE "Instance" SET "appsDomain" = ${taken} WHERE id = ${other.id}`)).toMatch(/InstanceDomain_pkey/);
    // Nothing was written, and what the render gets has each domain once.
    const rows = await deps.db.instance.findMany({ where: { id: { in: [owner.id, other.id] } }, select: { id: true, externalDomains: true }, orderBy: { id: "asc" } });
    expect(rows.map((r) => r.externalDomains)).toEqual([["shop.owner.test"], []]);

    // The same domain twice within one instance is one map entry; a domain given up is free again.
    await deps.db.instance.update({ where: { id: other.id }, data: { externalDomains: ["Twice.other.test", "twice.other.test"] } });
    await deps.db.instance.update({ where: { id: owner.id }, data: { externalDomains: [] } });
    expect(await refusal(() => deps.db.instance.update({ where: { id: other.id }, data: { externalDomains: ["shop.owner.test"] } }))).toBe("written");
    await deps.db.instance.delete({ where: { id: owner.id } });
    expect(await refusal(() => makeInstance(deps, { externalDomains: [taken] }))).toBe("written");
    expect(await deps.db.instanceDomain.count({ where: { instanceId: owner.id } })).toBe(0);
  });
});
