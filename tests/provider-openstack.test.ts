// The OpenStack provider against the in-test OpenStack: what it sends Nova, how it keeps its
// Keystone token, and how every failure becomes a transient or permanent error that never
// carries a credential.
import net from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider } from "../src/adapters/provider/factory.js";
import { createOpenstackProvider } from "../src/adapters/provider/openstack.js";
import type { OpenstackApiOptions } from "../src/adapters/provider/openstack-api.js";
import { openstackSettingsSchema } from "../src/adapters/provider/openstack-settings.js";
import { ProviderError, type Provider } from "../src/adapters/provider/port.js";
import { freePort } from "../src/embedded/processes.js";
import { MASK } from "../src/mask-text.js";
import { retryable } from "../src/jobs/retry.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";

/** A clock that moves only when the provider waits: polling costs no real time. */
function instantClock() {
  let t = Date.parse("2026-12-01T00:00:00Z");
  return { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) };
}

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

describe("OpenStack provider", () => {
  let fake: FakeOpenstack;
  let logLines: string[];
  let guestSsh: net.Server;
  let guestPort: number;

  const make = (overrides: Record<string, unknown> = {}, credentials: Record<string, string> = {}, timeoutMs = 5_000, clock: Partial<Pick<OpenstackApiOptions, "now" | "sleep">> = instantClock()): Provider =>
    createOpenstackProvider({
      accountName: "test cloud",
      settings: openstackSettingsSchema.parse({
        authUrl: fake.authUrl,
        projectName: fake.projectName,
        flavorRef: "m1.medium",
        imageRef: "ubuntu-22.04",
        keyName: "ocim-key",
        securityGroups: ["default", "ocim-ssh"],
        networks: ["private"],
        floatingNetwork: "public",
        sshPort: guestPort,
        ...overrides,
      }),
      credentials: { username: fake.username, password: fake.password, sshPrivateKey: KEY, ...credentials },
      timeoutMs,
      ...clock,
      log: pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }),
    });

  /** Everything an operator or a log could ever see of an error. */
  const visible = (err: unknown) => [String(err), (err as Error).stack ?? "", JSON.stringify(err), JSON.stringify((err as ProviderError).details)].join("\n");
  const secrets = () => [fake.password, fake.username, fake.applicationCredentialSecret, KEY.split("\n")[1]!, ...fake.tokens.keys()];

  async function failure(work: Promise<unknown>): Promise<ProviderError> {
    const err = await work.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderError);
    for (const secret of secrets()) expect(visible(err)).not.toContain(secret);
    return err as ProviderError;
  }

  beforeAll(async () => {
    fake = await new FakeOpenstack().start();
    guestSsh = net.createServer((s) => s.end());
    await new Promise<void>((r) => guestSsh.listen(0, "127.0.0.1", () => r()));
    guestPort = (guestSsh.address() as net.AddressInfo).port;
  });
  beforeEach(() => {
    logLines = [];
  });
  afterAll(async () => {
    await fake?.stop();
    await new Promise((r) => guestSsh?.close(r));
  });

  it("asks Nova for the ids of the flavor, image and networks the settings name, with the key pair, security groups and Ocim's tag", async () => {
    const vm = await make().createServer({ name: "os-as1", metadata: { ocim_appserver: "12" } });
    expect(vm).toMatchObject({ name: "os-as1", status: "building", publicIp: null, sshPort: guestPort, workDir: "/home/ubuntu/ocim" });
    expect(fake.servers.get(vm.id)?.request).toEqual({
      name: "os-as1",
      flavorRef: "3",
      imageRef: fake.images[0]!.id,
      key_name: "ocim-key",
      metadata: { ocim_appserver: "12", "ocim-managed": "true" },
      security_groups: [{ name: "default" }, { name: "ocim-ssh" }],
      networks: [{ uuid: fake.networks[0]!.id }],
    });
  });

  it("finds a flavor by name on a later page of Nova's flavor list", async () => {
    const added = [{ id: "4", name: "m1.large" }, { id: "5", name: "m1.xlarge" }];
    fake.flavors.push(...added);
    fake.maxLimit = 1;
    try {
      const vm = await make({ flavorRef: "m1.xlarge" }).createServer({ name: "os-flavor-as1" });
      expect(fake.servers.get(vm.id)?.request.flavorRef).toBe("5");
    } finally {
      fake.maxLimit = 1000;
      fake.flavors.splice(1);
    }
  });

  it("takes ids as they are", async () => {
    const vm = await make({ flavorRef: "3", imageRef: fake.images[0]!.id, networks: [fake.networks[0]!.id] }).createServer({ name: "os-ids-as1" });
    expect(fake.servers.get(vm.id)?.request).toMatchObject({ flavorRef: "3", imageRef: fake.images[0]!.id, networks: [{ uuid: fake.networks[0]!.id }] });
  });

  it("says which name is unknown or ambiguous, permanently, before asking Nova for anything", async () => {
    const before = fake.servers.size;
    const unknown = await failure(make({ flavorRef: "m1.huge" }).createServer({ name: "os-names-as1" }));
    expect(unknown.message).toBe('OpenStack has no flavor named or with id "m1.huge" (provider account "test cloud").');
    expect(retryable(unknown)).toBe(false);
    const noImage = await failure(make({ imageRef: "ubuntu-99.04" }).createServer({ name: "os-names-as1" }));
    expect(noImage.message).toBe('OpenStack has no image named or with id "ubuntu-99.04" (provider account "test cloud").');
    fake.images.push({ id: "6f1c2a53-9d1e-4c55-8a7e-00000000beef", name: "ubuntu-22.04" });
    try {
      const twins = await failure(make().createServer({ name: "os-names-as1" }));
      expect(twins.message).toBe(`OpenStack has 2 images named "ubuntu-22.04" (${fake.images[0]!.id}, 6f1c2a53-9d1e-4c55-8a7e-00000000beef): give the id instead (provider account "test cloud").`);
      expect(retryable(twins)).toBe(false);
    } finally {
      fake.images.pop();
    }
    expect(fake.servers.size).toBe(before);
  });

  it("allocates one floating IP from the external network for an ACTIVE server, keeps it across calls and providers, and releases it on delete", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-fip-as1" });
    expect((await p.getServer(vm.id))?.publicIp).toBeNull(); // BUILD: no port yet
    const ready = await p.getServer(vm.id);
    expect(ready).toMatchObject({ status: "ready", publicIp: fake.floatingAddress });
    const mine = () => [...fake.floatingIps.values()].filter((f) => f.port_id === fake.servers.get(vm.id)?.portId || f.description.includes(vm.id));
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ floating_network_id: fake.networks[1]!.id, status: "ACTIVE" });
    await p.getServer(vm.id);
    await make().getServer(vm.id); // a resumed job, with a new provider
    expect(await make().findServerByName("os-fip-as1")).toMatchObject({ publicIp: fake.floatingAddress });
    expect(mine()).toHaveLength(1);
    await make().deleteServer(vm.id);
    expect(mine()).toHaveLength(0);
  });

  it("ends with one floating IP when two calls give the same server one at once", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-fip-as3" });
    await p.getServer(vm.id); // BUILD
    fake.servers.get(vm.id)!.status = "ACTIVE";
    const [a, b] = await Promise.all([make().getServer(vm.id), make().getServer(vm.id)]);
    expect([a?.publicIp, b?.publicIp]).toEqual([fake.floatingAddress, fake.floatingAddress]);
    expect([...fake.floatingIps.values()].filter((f) => f.description.includes(vm.id))).toHaveLength(1);
  });

  it("finds a floating IP whose association was lost and releases it once the server is gone", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-fip-as2" });
    await p.getServer(vm.id);
    await p.getServer(vm.id);
    const fip = [...fake.floatingIps.values()].find((f) => f.port_id === fake.servers.get(vm.id)!.portId)!;
    // The server was deleted behind Ocim's back: its port went with it, the address stayed allocated.
    fake.servers.get(vm.id)!.deleteLeft = 0;
    await p.deleteServer(vm.id);
    expect(fake.floatingIps.has(fip.id)).toBe(false);
  });

  it("uses the fixed address when no external network is configured (a provider network)", async () => {
    const p = make({ floatingNetwork: undefined });
    const vm = await p.createServer({ name: "os-fixed-as1" });
    await p.getServer(vm.id);
    expect((await p.getServer(vm.id))?.publicIp).toBe(fake.servers.get(vm.id)!.fixedIp);
    expect([...fake.floatingIps.values()].filter((f) => f.description.includes(vm.id))).toHaveLength(0);
  });

  it("waits until Nova has really deleted the server, and gives up at the deadline as transient", async () => {
    fake.deletePolls = 3;
    try {
      const p = make();
      const vm = await p.createServer({ name: "os-del-as1" });
      await p.deleteServer(vm.id);
      expect(fake.servers.has(vm.id)).toBe(false);
      const stuck = await p.createServer({ name: "os-del-as2" });
      fake.deletePolls = Number.POSITIVE_INFINITY;
      const err = await failure(make({ deleteTimeoutSeconds: 60 }).deleteServer(stuck.id));
      expect(err.message).toBe(`OpenStack still lists server ${stuck.id} as deleting after 60 s.`);
      expect(retryable(err)).toBe(true);
    } finally {
      fake.deletePolls = 1;
    }
  });

  it("lists only the servers Ocim made, page by page, and not those being deleted", async () => {
    fake.maxLimit = 2;
    try {
      const p = make();
      const foreign = fake.addForeignServer("db-as1");
      const named = fake.addForeignServer("someone-elses-vm", { "ocim-managed": "true" });
      const made = [];
      for (const n of [1, 2, 3, 4, 5]) made.push(await p.createServer({ name: `os-page-as${n}` }));
      Object.assign(fake.servers.get(made[4]!.id)!, { taskState: "deleting", deleteLeft: 99 });
      const listed = (await p.listServers()).map((s) => s.name);
      for (const n of [1, 2, 3, 4]) expect(listed).toContain(`os-page-as${n}`);
      expect(listed).not.toContain("os-page-as5");
      expect(listed).not.toContain(foreign.name);
      expect(listed).not.toContain(named.name);
      expect(fake.requests.filter((r) => r.endsWith("/servers/detail")).length).toBeGreaterThan(2);
    } finally {
      fake.maxLimit = 1000;
    }
  });

  it("shows the fault Nova gives for a server in ERROR", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-err-as1" });
    Object.assign(fake.servers.get(vm.id)!, { status: "ERROR", fault: { code: 500, message: "No valid host was found. There are not enough hosts available.", created: "2026-12-01T00:00:00Z" } });
    expect(await p.getServer(vm.id)).toMatchObject({ status: "failed", fault: "No valid host was found. There are not enough hosts available." });
  });

  it("reports an exceeded quota as permanent, with Nova's words", async () => {
    const p = make();
    await p.createServer({ name: "os-warm-as2" }); // names looked up: the fault hits the create
    fake.fault("nova", { status: 403, key: "forbidden", message: "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances" });
    const err = await failure(p.createServer({ name: "os-quota-as1" }));
    expect(err.message).toBe("OpenStack answered 403 while creating server os-quota-as1: Quota exceeded for instances: Requested 1, but already used 10 of 10 instances");
    expect(retryable(err)).toBe(false);
  });

  it("authenticates with a project id instead of a name, and says when a password has no project", async () => {
    const p = make({ projectName: undefined, projectId: fake.projectId });
    expect(await p.findServerByName("none")).toBeNull();
    const none = await failure(make({ projectName: undefined }).findServerByName("none"));
    expect(none.message).toBe('Password credentials need "projectName" or "projectId" in the settings of provider account "test cloud".');
    expect(retryable(none)).toBe(false);
  });

  it("authenticates with an application credential, which carries its own project", async () => {
    const p = make({ projectName: undefined }, { applicationCredentialId: fake.applicationCredentialId, applicationCredentialSecret: fake.applicationCredentialSecret, username: "", password: "" });
    expect(await p.findServerByName("none")).toBeNull();
    const bad = await failure(make({ projectName: undefined }, { applicationCredentialId: fake.applicationCredentialId, applicationCredentialSecret: "wrong-secret-value", username: "", password: "" }).findServerByName("none"));
    expect(bad.message).toBe('OpenStack refused the credentials of provider account "test cloud" (401).');
    expect(visible(bad)).not.toContain("wrong-secret-value");
  });

  it("follows the server from BUILD to ACTIVE, ready only once its SSH port answers", async () => {
    const closedPort = await freePort();
    const p = make({ sshPort: closedPort });
    const vm = await p.createServer({ name: "os-as2" });
    expect((await p.getServer(vm.id))?.status).toBe("building");
    expect(await p.getServer(vm.id)).toMatchObject({ status: "booting", publicIp: fake.floatingAddress });
    expect((await make().getServer(vm.id))?.status).toBe("ready");
    fake.servers.get(vm.id)!.status = "ERROR";
    expect((await p.getServer(vm.id))?.status).toBe("failed");
  });

  it("authenticates once and reuses the token for later calls", async () => {
    const p = make();
    const before = fake.authCount;
    const vm = await p.createServer({ name: "os-as3" });
    await p.getServer(vm.id);
    await p.findServerByName("os-as3");
    expect(fake.authCount - before).toBe(1);
  });

  it("gets a new token when Nova no longer accepts the old one", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-as4" });
    const before = fake.authCount;
    fake.revokeTokens();
    expect((await p.getServer(vm.id))?.name).toBe("os-as4");
    expect(fake.authCount - before).toBe(1);
  });

  it("replaces a token that is about to expire instead of using it", async () => {
    fake.tokenLifetimeSeconds = 30;
    try {
      const p = make();
      const before = fake.authCount;
      await p.findServerByName("os-none");
      await p.findServerByName("os-none");
      expect(fake.authCount - before).toBe(2);
    } finally {
      fake.tokenLifetimeSeconds = 3600;
    }
  });

  it("uses the compute endpoint of the configured region", async () => {
    await make({ region: "RegionTwo" }).getServer("abc");
    expect(fake.requests.at(-1)).toBe("GET /compute-two/v2.1/p1/servers/abc");
    const err = await failure(make({ region: "Nowhere" }).getServer("abc"));
    expect(err.message).toBe('The OpenStack catalog of provider account "test cloud" has no public compute endpoint in region Nowhere.');
    expect(retryable(err)).toBe(false);
  });

  it("reports a 5xx from Nova as transient, naming the call", async () => {
    const p = make();
    await p.createServer({ name: "os-warm-as1" }); // names looked up: the fault hits the create
    fake.fault("nova", { status: 503 });
    const err = await failure(p.createServer({ name: "os-as5" }));
    expect(err.message).toBe("OpenStack answered 503 while creating server os-as5: The service is unavailable (injected fault).");
    expect(retryable(err)).toBe(true);
    expect((await p.createServer({ name: "os-as5" })).name).toBe("os-as5");
  });

  it("reports a 5xx from Keystone as transient", async () => {
    fake.fault("keystone", { status: 500 });
    const err = await failure(make().findServerByName("os-as1"));
    expect(err.message).toBe('OpenStack answered 500 while authenticating provider account "test cloud": The service is unavailable (injected fault).');
    expect(retryable(err)).toBe(true);
  });

  it("masks a credential that an error message of the API repeats", async () => {
    fake.fault("keystone", { status: 500, message: `Database error while loading user ${fake.username} (password ${fake.password})` });
    const err = await failure(make().findServerByName("os-as1"));
    expect(err.message).toBe(`OpenStack answered 500 while authenticating provider account "test cloud": Database error while loading user ${MASK} (password ${MASK})`);
  });

  it("gives up on a slow answer at the timeout, as a transient error", async () => {
    const p = make({}, {}, 300);
    await p.findServerByName("warm-up");
    fake.fault("nova", { delayMs: 2_000 });
    const err = await failure(p.getServer("slow-1"));
    expect(err.message).toBe(`OpenStack (${new URL(fake.url).host}) did not answer within 0.3 s while reading server slow-1.`);
    expect(retryable(err)).toBe(true);
  });

  it("reports bad credentials as permanent, without the user name or password", async () => {
    const err = await failure(make({}, { password: "wrong-Pa55word" }).findServerByName("os-as1"));
    expect(err.message).toBe('OpenStack refused the credentials of provider account "test cloud" (401).');
    expect(retryable(err)).toBe(false);
    expect(visible(err)).not.toContain("wrong-Pa55word");
  });

  it("reports a request Nova rejects as permanent, with Nova's reason", async () => {
    const err = await failure(make({ keyName: "lost-key" }).createServer({ name: "os-as6" }));
    expect(err.message).toBe("OpenStack answered 400 while creating server os-as6: Invalid key_name provided.");
    expect(retryable(err)).toBe(false);
  });

  it("tells a 409 Nova refuses (an ambiguous network) from a 409 that passes (an instance busy with a task)", async () => {
    const p = make();
    await p.findServerByName("warm-up");
    fake.networks.push({ id: "4d7a4c2e-0000-4000-8000-00000000bbbb", name: "second", external: false });
    const refused = await failure(make({ networks: [] }).createServer({ name: "os-as8" }));
    fake.networks.pop();
    expect(refused.message).toBe("OpenStack answered 409 while creating server os-as8: Multiple possible networks found, use a Network ID to be more specific.");
    expect(retryable(refused)).toBe(false);
    fake.fault("nova", { status: 409, message: "Cannot 'delete' instance abc while it is in task_state spawning" });
    const busy = await failure(p.deleteServer("abc"));
    expect(retryable(busy)).toBe(true);
  });

  it("reports an unreachable Keystone as transient", async () => {
    const port = await freePort();
    const err = await failure(make({ authUrl: `http://127.0.0.1:${port}/v3` }).findServerByName("os-as1"));
    expect(err.message).toBe(`Could not reach OpenStack (127.0.0.1:${port}) while authenticating provider account "test cloud": connection refused.`);
    expect(retryable(err)).toBe(true);
  });

  it("never writes a credential or token to its log", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-as7" });
    fake.revokeTokens();
    await p.getServer(vm.id);
    expect(logLines.join("\n")).toContain("provider.openstack.authenticated");
    for (const secret of secrets()) expect(logLines.join("\n")).not.toContain(secret);
  });

  it("treats deleting a server that is already gone as done", async () => {
    const p = make();
    const vm = await p.createServer({ name: "os-as8" });
    await p.deleteServer(vm.id);
    await expect(p.deleteServer(vm.id)).resolves.toBeUndefined();
    expect(await p.getServer(vm.id)).toBeNull();
  });
});

describe("createProvider for openstack", () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(() => deps?.close());

  const account = (data: { settings?: object; credentialsEncrypted?: string }) =>
    deps.db.providerAccount.create({ data: { name: `cloud-${Math.random().toString(36).slice(2, 8)}`, kind: "openstack", settings: data.settings ?? {}, credentialsEncrypted: data.credentialsEncrypted ?? "" } });

  it("says so when no OpenStack account is configured", async () => {
    await expect(createProvider(deps, "openstack").findServerByName("x")).rejects.toThrow("No OpenStack provider account is configured: add one in the admin area.");
  });

  it("names the invalid settings of the account, and reads the account again once fixed", async () => {
    const a = await account({ settings: { authUrl: "keystone", projectName: "p" } });
    const provider = createProvider(deps, "openstack");
    const err = (await provider.findServerByName("x").catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toContain(`The settings of provider account "${a.name}" are not valid: "authUrl" must be an http(s) URL; "flavorRef" is missing;`);
    expect(retryable(err)).toBe(false);
    await deps.db.providerAccount.delete({ where: { id: a.id } });
    await expect(provider.findServerByName("x")).rejects.toThrow("No OpenStack provider account is configured");
  });

  it("says the credentials cannot be read without quoting them", async () => {
    const settings = { authUrl: "http://127.0.0.1:9/v3", projectName: "p", flavorRef: "f", imageRef: "i", keyName: "k" };
    const a = await account({ settings, credentialsEncrypted: deps.secrets.encrypt("hunter2 is not JSON") });
    const err = (await createProvider(deps, "openstack").findServerByName("x").catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toBe(`The credentials of provider account "${a.name}" cannot be read (missing, or SECRET_KEY changed since they were saved).`);
    expect(JSON.stringify(err) + err.stack).not.toContain("hunter2");
    await deps.db.providerAccount.update({ where: { id: a.id }, data: { credentialsEncrypted: deps.secrets.encrypt(JSON.stringify({ username: "u", password: "hunter2" })) } });
    const missingKey = (await createProvider(deps, "openstack").findServerByName("x").catch((e: unknown) => e)) as ProviderError;
    expect(missingKey.message).toBe(`The credentials of provider account "${a.name}" are not valid: "sshPrivateKey" is missing.`);
    expect(JSON.stringify(missingKey) + missingKey.stack).not.toContain("hunter2");
    await deps.db.providerAccount.delete({ where: { id: a.id } });
  });

  it("refuses a kind of provider it does not know", () => {
    expect(() => createProvider(deps, "static")).toThrow('There is no provider of kind "static".');
  });
});
