// One contract, every provider (STYLE: a port's conformance suite runs against each
// implementation): local against real sshd processes, openstack against the in-test OpenStack.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProvider } from "../src/adapters/provider/factory.js";
import type { Provider, ServerInfo } from "../src/adapters/provider/port.js";
import { portAnswers } from "../src/adapters/provider/tcp.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";

interface Subject {
  provider: Provider;
  unknownId: string;
  close(): Promise<void>;
}

const subjects: Record<string, () => Promise<Subject>> = {
  async local() {
    let vms: LocalVms | undefined;
    try {
      vms = await localVms();
      return { provider: vms.provider(), unknownId: "contract-none.00000000", close: () => vms!.cleanup() };
    } catch (err) {
      await vms?.cleanup();
      throw err;
    }
  },
  async openstack() {
    const fake = await new FakeOpenstack().start();
    // Stands in for the guests' sshd: the provider calls a server ready once its SSH port answers.
    const guestSsh = net.createServer((s) => s.end());
    await new Promise<void>((r) => guestSsh.listen(0, "127.0.0.1", () => r()));
    let deps: TestDeps | undefined;
    const close = async () => {
      await deps?.close();
      await fake.stop();
      await new Promise((r) => guestSsh.close(r));
    };
    try {
      deps = await createTestDeps();
      await deps.db.providerAccount.create({
        data: {
          name: "test cloud",
          kind: "openstack",
          settings: { authUrl: fake.authUrl, projectName: fake.projectName, flavorRef: "m1.medium", imageRef: "ubuntu-22.04", keyName: "ocim-key", floatingNetwork: "public", sshPort: (guestSsh.address() as net.AddressInfo).port },
          credentialsEncrypted: deps.secrets.encrypt(JSON.stringify({ username: fake.username, password: fake.password, sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n…\n-----END OPENSSH PRIVATE KEY-----\n" })),
        },
      });
      return { provider: createProvider(deps, "openstack"), unknownId: "6f1c2a53-9d1e-4c55-8a7e-000000000000", close };
    } catch (err) {
      await close();
      throw err;
    }
  },
};

async function untilReady(provider: Provider, vm: ServerInfo): Promise<ServerInfo> {
  const until = Date.now() + 30_000;
  let current: ServerInfo | null = vm;
  while (current && current.status !== "ready" && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    current = await provider.getServer(vm.id);
  }
  expect(current?.status).toBe("ready");
  return current!;
}

describe.each(Object.keys(subjects))("Provider contract: %s", (kind) => {
  let s: Subject;
  beforeAll(async () => {
    s = await subjects[kind]!();
  });
  afterAll(() => s?.close());

  it("creates a VM under the given name that becomes ready, with an address whose SSH port answers", async () => {
    const created = await s.provider.createServer({ name: "contract-as1", metadata: { appserver: "1" } });
    expect(created.id).not.toBe("");
    expect(created.name).toBe("contract-as1");
    expect(["pending", "building", "booting", "ready"]).toContain(created.status);
    const vm = await untilReady(s.provider, created);
    expect(vm.id).toBe(created.id);
    expect(vm.publicIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await portAnswers(vm.publicIp!, vm.sshPort, 2_000)).toBe(true);
    expect(vm.workDir).toMatch(/^\/.+/);
  });

  it("finds a VM by its exact name only, as a retried job must", async () => {
    const other = await s.provider.createServer({ name: "contract-as10" });
    const first = await s.provider.findServerByName("contract-as1");
    expect(first?.name).toBe("contract-as1");
    expect(first?.id).not.toBe(other.id);
    expect((await s.provider.findServerByName("contract-as10"))?.id).toBe(other.id);
    expect(await s.provider.findServerByName("contract-as")).toBeNull();
    expect(await s.provider.findServerByName("contract-as1.")).toBeNull();
    expect(await s.provider.findServerByName("contract-.s1")).toBeNull();
  });

  it("answers null for an id it does not know", async () => {
    expect(await s.provider.getServer(s.unknownId)).toBeNull();
  });

  it("deletes a VM: it is gone by id and by name, and deleting it again is not an error", async () => {
    const vm = (await s.provider.findServerByName("contract-as10"))!;
    expect((await s.provider.listServers()).map((v) => v.id)).toContain(vm.id);
    await s.provider.deleteServer(vm.id);
    expect((await s.provider.listServers()).map((v) => v.id)).not.toContain(vm.id);
    expect(await s.provider.getServer(vm.id)).toBeNull();
    expect(await s.provider.findServerByName("contract-as10")).toBeNull();
    await expect(s.provider.deleteServer(vm.id)).resolves.toBeUndefined();
    expect((await s.provider.findServerByName("contract-as1"))?.name).toBe("contract-as1");
  });

  it("gives the login to use on its VMs", async () => {
    const login = await s.provider.sshLogin();
    expect(login.username).toMatch(/^[a-z_][a-z0-9_-]*$/);
    expect(login.privateKey).toContain("PRIVATE KEY");
  });
});
