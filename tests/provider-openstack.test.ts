// The OpenStack provider against the in-test OpenStack: what it sends Nova, how it keeps its
// Keystone token, and how every failure becomes a transient or permanent error that never
// carries a credential.
import net from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createProvider } from "../src/adapters/provider/factory.js";
import { createOpenstackProvider } from "../src/adapters/provider/openstack.js";
import { openstackSettingsSchema } from "../src/adapters/provider/openstack-settings.js";
import { ProviderError, type Provider } from "../src/adapters/provider/port.js";
import { freePort } from "../src/embedded/processes.js";
import { retryable } from "../src/jobs/retry.js";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { FakeOpenstack } from "./helpers/fake-openstack.js";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

describe("OpenStack provider", () => {
  let fake: FakeOpenstack;
  let logLines: string[];
  let guestSsh: net.Server;
  let guestPort: number;

  const make = (overrides: Record<string, unknown> = {}, credentials: Partial<{ username: string; password: string }> = {}, timeoutMs = 5_000): Provider =>
    createOpenstackProvider({
      accountName: "test cloud",
      settings: openstackSettingsSchema.parse({
        authUrl: fake.authUrl,
        projectName: fake.projectName,
        flavorRef: "m1.medium",
        imageRef: "ubuntu-22.04",
        keyName: "ocim-key",
        securityGroups: ["default", "ocim-ssh"],
        networkIds: ["net-1111"],
        sshPort: guestPort,
        ...overrides,
      }),
      credentials: { username: fake.username, password: fake.password, sshPrivateKey: KEY, ...credentials },
      timeoutMs,
      log: pino({ level: "debug" }, { write: (line: string) => void logLines.push(line) }),
    });

  /** Everything an operator or a log could ever see of an error. */
  const visible = (err: unknown) => [String(err), (err as Error).stack ?? "", JSON.stringify(err), JSON.stringify((err as ProviderError).details)].join("\n");
  const secrets = () => [fake.password, fake.username, KEY.split("\n")[1]!, ...fake.tokens.keys()];

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

  it("asks Nova for the flavor, image, key pair, security groups and networks of the settings", async () => {
    const vm = await make().createServer({ name: "os-as1", metadata: { ocim_appserver: "12" } });
    expect(vm).toMatchObject({ name: "os-as1", status: "building", publicIp: null, sshPort: guestPort, workDir: "/home/ubuntu/ocim" });
    expect(fake.servers.get(vm.id)?.request).toEqual({
      name: "os-as1",
      flavorRef: "m1.medium",
      imageRef: "ubuntu-22.04",
      key_name: "ocim-key",
      metadata: { ocim_appserver: "12" },
      security_groups: [{ name: "default" }, { name: "ocim-ssh" }],
      networks: [{ uuid: "net-1111" }],
    });
  });

  it("follows the server from BUILD to ACTIVE, ready only once its SSH port answers", async () => {
    const closedPort = await freePort();
    const p = make({ sshPort: closedPort });
    const vm = await p.createServer({ name: "os-as2" });
    expect((await p.getServer(vm.id))?.status).toBe("building");
    expect(await p.getServer(vm.id)).toMatchObject({ status: "booting", publicIp: fake.serverAddress });
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
    await p.findServerByName("warm-up");
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
    expect(err.message).toBe('OpenStack answered 500 while authenticating provider account "test cloud": Database error while loading user [masked] (password [masked])');
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
    const err = await failure(make({ flavorRef: "m1.huge" }).createServer({ name: "os-as6" }));
    expect(err.message).toBe("OpenStack answered 400 while creating server os-as6: Flavor m1.huge could not be found.");
    expect(retryable(err)).toBe(false);
  });

  it("tells a 409 Nova refuses (an ambiguous network) from a 409 that passes (an instance busy with a task)", async () => {
    const p = make();
    await p.findServerByName("warm-up");
    fake.fault("nova", { status: 409, message: "Multiple possible networks found, use a Network ID to be more specific." });
    const refused = await failure(p.createServer({ name: "os-as8" }));
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
