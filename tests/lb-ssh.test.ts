// An `ssh` load balancer: its host is a local-provider VM reached over real SSH, running a real
// haproxy whose config includes the fragment Ocim uploads; the reload command is run over SSH.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../src/embedded/processes.js";
import { basicAuthFor } from "../src/domain/instances/secret.js";
import { applyLoadBalancer } from "../src/domain/loadbalancer/apply-load-balancer.js";
import { bumpConfiguration } from "../src/domain/loadbalancer/bump-configuration.js";
import { sharedFrontendRule } from "../src/domain/loadbalancer/render-config.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { FakeAppServer } from "./helpers/fake-appserver.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { lbGet } from "./helpers/lb.js";
import { waitFor } from "./helpers/wait.js";
import type { ServerInfo } from "../src/adapters/provider/port.js";

describe("an ssh load balancer", () => {
  let vms: LocalVms;
  let vm: ServerInfo;
  let deps: TestDeps;
  let keyDir: string;
  let port: number;
  let app: FakeAppServer;
  let lb: Awaited<ReturnType<TestDeps["db"]["loadBalancer"]["create"]>>;
  let site: Awaited<ReturnType<typeof makeInstance>>;

  beforeAll(async () => {
    vms = await localVms();
    const provider = vms.provider();
    vm = await waitFor("the balancer host", async () => {
      const found = (await provider.findServerByName("lbhost")) ?? (await provider.createServer({ name: "lbhost" }));
      const current = await provider.getServer(found.id);
      return current?.status === "ready" ? current : undefined;
    }, 30_000);
    const login = await provider.sshLogin();
    keyDir = mkdtempSync(path.join(os.tmpdir(), "ocim-lbkey-"));
    writeFileSync(path.join(keyDir, "key"), login.privateKey, { mode: 0o600 });
    deps = await createTestDeps({ ...vms.env, LB_SSH_KEY_FILE: path.join(keyDir, "key"), HAPROXY_TIMEOUT_SECONDS: "20" });
    port = await freePort();
    const dir = vm.workDir;
    lb = await deps.db.loadBalancer.create({
      data: {
        name: "remote", kind: "ssh", host: vm.publicIp!, sshUser: login.username, sshPort: vm.sshPort, fragmentName: "remote",
        configPath: `${dir}/ocim.cfg`, mapPath: `${dir}/ocim.map`,
        // Starts haproxy the first time, then replaces it gracefully (-sf) with one on the new files.
        reloadCommand: `cd ${dir} && haproxy -D -p haproxy.pid -f main.cfg -f ocim.cfg $( [ -s haproxy.pid ] && echo -sf $(cat haproxy.pid) )`,
      },
    });
    // The operator's own main config on that host, with the frontend rule Ocim documents.
    const session = await vms.connect(vm);
    await session.exec(`mkdir -p ${dir}`);
    await session.uploadFile(`${dir}/main.cfg`, [
      "defaults", "  mode http", "  timeout connect 5s", "  timeout client 30s", "  timeout server 30s",
      "frontend www", `  bind 127.0.0.1:${port}`, `  ${sharedFrontendRule(`${dir}/ocim.map`)}`, "",
    ].join("\n"));
    site = await makeInstance(deps, { loadBalancerId: lb.id });
    app = await new FakeAppServer("A", basicAuthFor(deps.secrets, site)).start();
    await makeAppServer(deps, site.id, { status: "running", isActive: true, publicIp: "127.0.0.1", configSnapshot: { variables: { EDXAPP_LMS_NGINX_PORT: app.port } } });
  });
  afterAll(async () => {
    if (vm) {
      const session = await vms.connect(vm).catch(() => null);
      await session?.exec(`cd ${vm.workDir} && [ -s haproxy.pid ] && kill $(cat haproxy.pid); true`);
    }
    await app?.stop();
    await vms?.cleanup();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await deps?.close();
  });

  it("uploads the files over SFTP, reloads over SSH, and the host routes the instance's domain", async () => {
    await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId: site.id }));
    const result = await applyLoadBalancer(deps, { loadBalancerId: lb.id });
    expect(result.outcome).toBe("applied");
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row).toMatchObject({ lastError: "", deployedVersion: row.configurationVersion });
    expect(readFileSync(lb.mapPath, "utf8")).toContain(`${site.internalLmsDomain} remote-inst-${site.id}`);
    const page = await waitFor("haproxy on the host to route", async () => {
      const res = await lbGet(port, site.internalLmsDomain).catch(() => null);
      return res?.status === 200 ? res : undefined;
    }, 15_000);
    expect(page.text).toBe("served by A");
  });

  it("keeps the live files when haproxy -c on the host refuses the candidate", async () => {
    const before = readFileSync(lb.configPath, "utf8");
    await deps.db.appServer.updateMany({ where: { instanceId: site.id }, data: { publicIp: "10.0.0.999" } });
    await deps.db.$transaction((tx) => bumpConfiguration(tx, { instanceId: site.id }));
    await expect(applyLoadBalancer(deps, { loadBalancerId: lb.id })).rejects.toThrow();
    const row = await deps.db.loadBalancer.findUniqueOrThrow({ where: { id: lb.id } });
    expect(row.lastError).toContain("10.0.0.999");
    expect(row.deployedVersion).toBeLessThan(row.configurationVersion);
    expect(readFileSync(lb.configPath, "utf8")).toBe(before);
    expect((await lbGet(port, site.internalLmsDomain)).text).toBe("served by A");
  });
});
