// SSH access for the organization's members (run as root: it makes real Unix accounts, under a
// unique prefix, and removes them afterwards). The appservers are local-provider VMs (real sshd);
// GitHub is the in-test server.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDeps, type TestDeps } from "./helpers/deps.js";
import { localVms, type LocalVms } from "./helpers/local-vms.js";
import { makeAppServer, makeInstance } from "./helpers/factories.js";
import { FakeGithub } from "./helpers/fake-github.js";
import { waitFor } from "./helpers/wait.js";
import { serveAs } from "./helpers/app.js";
import { visibleText } from "./helpers/browserless.js";
import { fetchGithubKeys } from "../src/domain/sshkeys/fetch-github-keys.js";
import { accountName, groupName, syncSshAccess, syncedKey } from "../src/domain/sshkeys/sync-ssh-access.js";
import { createProvisioningPorts } from "../src/adapters/provisioning-ports.js";
import { createSsh2Client } from "../src/adapters/ssh/ssh2.js";
import type { ServerInfo } from "../src/adapters/provider/port.js";

const ORG = "access-org";

// Needs root (useradd). In CI it always runs, so a non-root CI fails loudly instead of skipping.
describe.runIf(process.getuid?.() === 0 || Boolean(process.env.CI))("SSH access for the organization's members", () => {
  const prefix = `t${randomBytes(3).toString("hex")}-`;
  let vms: LocalVms;
  let deps: TestDeps;
  let github: FakeGithub;
  let keyDir: string;
  let memberKey: string;
  const servers: ServerInfo[] = [];

  async function ready(name: string): Promise<ServerInfo> {
    const provider = vms.provider();
    const made = (await provider.findServerByName(name)) ?? (await provider.createServer({ name }));
    return waitFor(`VM ${name}`, async () => {
      const vm = await provider.getServer(made.id);
      return vm?.status === "ready" ? vm : undefined;
    }, 30_000);
  }

  async function loginAsMember(vm: ServerInfo) {
    const session = await createSsh2Client({ connectTimeoutMs: 5000 }).connect({
      host: vm.publicIp!, port: vm.sshPort, username: accountName(prefix, "Kim-Lee"), privateKey: memberKey, deadlineMs: 5000,
    });
    try {
      return await session.exec("id -un; sudo -n true && echo sudo-ok");
    } finally {
      await session.close();
    }
  }

  beforeAll(async () => {
    vms = await localVms();
    github = await new FakeGithub().start();
    keyDir = mkdtempSync(path.join(os.tmpdir(), "ocim-member-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kim@test", "-f", path.join(keyDir, "id")]);
    memberKey = readFileSync(path.join(keyDir, "id"), "utf8");
    github.addUser({ login: "Kim-Lee", keys: [readFileSync(path.join(keyDir, "id.pub"), "utf8").trim()] }, ORG);
    deps = await createTestDeps({ ...vms.env, GITHUB_ORG: ORG, GITHUB_API_URL: github.url, GITHUB_TOKEN: github.appToken, SSH_ACCOUNT_PREFIX: prefix });
    const instance = await makeInstance(deps);
    servers.push(await ready("access-running"), await ready("access-failed"));
    await makeAppServer(deps, instance.id, { status: "running", vmStatus: "ready", providerServerId: servers[0]!.id, publicIp: servers[0]!.publicIp });
    await makeAppServer(deps, instance.id, { status: "failed", vmStatus: "ready", providerServerId: servers[1]!.id, publicIp: servers[1]!.publicIp });
  });
  afterAll(async () => {
    execFileSync("sh", ["-c", `for u in $(getent passwd | cut -d: -f1 | grep '^${prefix}'); do userdel -r "$u" 2>/dev/null || userdel "$u"; rm -f "/etc/sudoers.d/ocim-$u"; done; groupdel ${groupName(prefix)} 2>/dev/null; true`]);
    await vms?.cleanup();
    await github?.stop();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
    await deps?.close();
  });

  it("lets a member added on GitHub log in with their key, with sudo, to a running and to a failed appserver after one sync", async () => {
    const fetched = await fetchGithubKeys(deps);
    expect(fetched).toMatchObject({ members: 1, keys: 1 });
    const outcome = await syncSshAccess(deps, createProvisioningPorts(deps));
    expect(outcome.failed).toEqual([]);
    expect(outcome.synced).toHaveLength(2);
    for (const vm of servers) {
      const res = await loginAsMember(vm);
      expect(res.stdout).toBe(`${accountName(prefix, "Kim-Lee")}\nsudo-ok\n`);
    }
    const synced = await deps.redis.hgetall(syncedKey(deps.config.QUEUE_PREFIX));
    expect(Object.keys(synced)).toHaveLength(2);
    // The page lists who has access and when each appserver was synced.
    const web = await serveAs(deps);
    try {
      const text = visibleText((await web.agent.get("/ssh-access")).text);
      expect(text).toContain(`kim-lee ${accountName(prefix, "Kim-Lee")} 1`);
      expect(text).not.toContain("never");
    } finally {
      await web.close();
    }
  });

  it("keeps everyone's access when GitHub answers with less than the full member list, and says why on the SSH access page", async () => {
    async function pageText(): Promise<string> {
      const web = await serveAs(deps);
      try {
        return visibleText((await web.agent.get("/ssh-access")).text);
      } finally {
        await web.close();
      }
    }
    const refusals: [string, () => () => void, string][] = [
      // The token lost sight of the organization: GitHub redirects to the public members (Kim is not one).
      ["redirect", () => ((github.appTokenSeesOrg = false), () => void (github.appTokenSeesOrg = true)), `GitHub redirected the member list of "${ORG}" to its public members`],
      ["SAML SSO", () => (github.ssoEnforced.add(ORG), () => void github.ssoEnforced.delete(ORG)), `The organization "${ORG}" enforces SAML single sign-on, and this token is not authorized for it`],
    ];
    for (const [, refuse, message] of refusals) {
      const restore = refuse();
      try {
        await expect(fetchGithubKeys(deps)).rejects.toThrow(message);
      } finally {
        restore();
      }
      expect(await deps.db.githubKey.count({ where: { githubLogin: "kim-lee" } })).toBe(1);
      expect((await syncSshAccess(deps, createProvisioningPorts(deps))).failed).toEqual([]);
      for (const vm of servers) expect((await loginAsMember(vm)).stdout).toContain("sudo-ok");
      const text = await pageText();
      expect(text).toContain("The last fetch from GitHub failed, so nobody's access was changed:");
      expect(text).toContain(message);
      expect(text).toContain(`kim-lee ${accountName(prefix, "Kim-Lee")} 1`);
    }
    // The next good fetch clears the warning.
    await fetchGithubKeys(deps);
    expect(await pageText()).not.toContain("The last fetch from GitHub failed");
  });

  it("refuses a member removed from the organization after the next sync", async () => {
    github.removeMember(ORG, "Kim-Lee");
    const fetched = await fetchGithubKeys(deps);
    expect(fetched.removedLogins).toEqual(["kim-lee"]);
    expect((await syncSshAccess(deps, createProvisioningPorts(deps))).failed).toEqual([]);
    for (const vm of servers) await expect(loginAsMember(vm)).rejects.toThrow();
    expect(() => execFileSync("id", ["-u", accountName(prefix, "Kim-Lee")], { stdio: "pipe" })).toThrow();
    // The page says the organization has nobody with a key, not that the settings are missing.
    const web = await serveAs(deps);
    try {
      const page = visibleText((await web.agent.get("/ssh-access")).text);
      expect(page).toMatch(new RegExp(`Who has access Nobody: the organization ${ORG} has no member with an SSH key on GitHub \\(fetched (just now|\\d+ s ago) ?\\)\\.`));
      expect(page).not.toContain("GITHUB_TOKEN are needed");
    } finally {
      await web.close();
    }
  });
});
