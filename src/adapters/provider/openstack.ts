// The OpenStack provider (DESIGN §6): Nova servers through the endpoints of a Keystone v3 token,
// Glance and Neutron to look names up, Neutron for floating IPs. A server is "ready" once it is
// ACTIVE, reachable (its floating IP on a tenant network) and its SSH port answers; ACTIVE alone
// means the guest is still booting. Every server Ocim makes carries OCIM_TAG in its metadata, and
// only tagged servers with Ocim's names are listed, so the orphan sweep never touches another VM
// of the project.
import { createOpenstackApi, type OpenstackApi, type OpenstackApiOptions } from "./openstack-api.js";
import { ensureFloatingIp, releaseFloatingIps } from "./openstack-floating-ip.js";
import { listAll, resolveRef, type RefKind } from "./openstack-lookup.js";
import type { OpenstackSettings } from "./openstack-settings.js";
import { ProviderError, type CreateServerInput, type Provider, type ServerInfo, type SshLogin, type VmStatus } from "./port.js";
import { portAnswers } from "./tcp.js";

const NOVA_STATUS: Record<string, VmStatus> = {
  BUILD: "building",
  REBUILD: "building",
  ACTIVE: "booting",
  ERROR: "failed",
  DELETED: "terminated",
  SOFT_DELETED: "terminated",
};

/** The metadata entry that marks a server as Ocim's (Nova "Create Server", `metadata`). */
export const OCIM_TAG = { key: "ocim-managed", value: "true" } as const;
/** Ocim's VM names: `<instance-slug>-as<N>` (vmName in src/domain/provisioning/provision-steps.ts). */
const OCIM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*-as\d+$/;

const SSH_PROBE_MS = 3_000;
/** Polls of a deleting server start fast (a small VM goes in a second or two) and back off to this. */
const DELETE_POLL_FIRST_MS = 250;
const DELETE_POLL_MAX_MS = 5_000;

interface NovaAddress {
  addr?: string;
  version?: number;
  "OS-EXT-IPS:type"?: string;
}

interface NovaServer {
  id: string;
  name: string;
  status?: string;
  "OS-EXT-STS:task_state"?: string | null;
  metadata?: Record<string, string>;
  accessIPv4?: string;
  addresses?: Record<string, NovaAddress[]>;
  fault?: { message?: string };
}

export function createOpenstackProvider(opts: OpenstackApiOptions): Provider {
  return new OpenstackProvider(opts);
}

class OpenstackProvider implements Provider {
  readonly kind = "openstack";
  readonly isolated = true;
  private readonly api: OpenstackApi;
  private readonly settings: OpenstackSettings;
  private readonly workDir: string;
  private readonly ids = new Map<string, Promise<string>>();
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: OpenstackApiOptions) {
    this.api = createOpenstackApi(opts);
    this.settings = opts.settings;
    const user = this.settings.sshUser;
    this.workDir = this.settings.workDir ?? (user === "root" ? "/root/ocim" : `/home/${user}/ocim`);
    this.now = opts.now ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async createServer({ name, metadata = {} }: CreateServerInput): Promise<ServerInfo> {
    const { settings } = this;
    // The external network too: a wrong one should stop the launch before a VM exists.
    const [flavor, image, networks] = await Promise.all([
      this.resolve("flavor", settings.flavorRef),
      this.resolve("image", settings.imageRef),
      Promise.all([...settings.networks, ...settings.networkIds].map((n) => this.resolve("network", n))),
      settings.floatingNetwork ? this.resolve("network", settings.floatingNetwork) : null,
    ]);
    const what = `creating server ${name}`;
    const res = await this.api.call("compute", "POST", "/servers", what, {
      server: {
        name,
        flavorRef: flavor,
        imageRef: image,
        key_name: settings.keyName,
        metadata: { ...metadata, [OCIM_TAG.key]: OCIM_TAG.value },
        ...(settings.securityGroups.length ? { security_groups: settings.securityGroups.map((g) => ({ name: g })) } : {}),
        ...(networks.length ? { networks: networks.map((uuid) => ({ uuid })) } : {}),
      },
    });
    if (res.status === 404) throw new ProviderError(`OpenStack answered 404 while ${what}: is the compute endpoint right?`, false);
    const created = serverOf(res.body, what);
    return { id: created.id, name, status: "building", publicIp: null, sshPort: settings.sshPort, workDir: this.workDir };
  }

  async getServer(id: string): Promise<ServerInfo | null> {
    const res = await this.api.call("compute", "GET", `/servers/${encodeURIComponent(id)}`, `reading server ${id}`);
    if (res.status === 404) return null;
    return this.toInfo(serverOf(res.body, `reading server ${id}`));
  }

  /** Ocim's servers only (tag and name), all pages, without those Nova is deleting. */
  async listServers(): Promise<{ id: string; name: string }[]> {
    const servers = await listAll<NovaServer>(this.api, "compute", "/servers/detail", "servers", "listing servers");
    return servers.filter((s) => isOcims(s) && !isGoing(s)).map((s) => ({ id: s.id, name: s.name }));
  }

  async findServerByName(name: string): Promise<ServerInfo | null> {
    // Nova's name filter is a regular expression: anchor it and escape the name, so "x-as1" is not "x-as10".
    const pattern = `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
    const servers = await listAll<NovaServer>(this.api, "compute", `/servers?name=${encodeURIComponent(pattern)}`, "servers", `looking up server ${name}`);
    const match = servers.find((s) => s.name === name);
    return match ? this.getServer(match.id) : null;
  }

  /**
   * Releases the server's floating IP, asks Nova to delete the server, and waits until it is gone:
   * "Delete Server" answers 204 at once and the server stays listed with task_state "deleting"
   * meanwhile (https://docs.openstack.org/api-ref/compute/#delete-server). Past the deadline it is
   * a transient error: the job retries, and the orphan sweep does not count a deleting server.
   */
  async deleteServer(id: string): Promise<void> {
    if (this.settings.floatingNetwork) await releaseFloatingIps(this.api, id);
    const res = await this.api.call("compute", "DELETE", `/servers/${encodeURIComponent(id)}`, `deleting server ${id}`);
    if (res.status === 404) return;
    const deadline = this.now().getTime() + this.settings.deleteTimeoutSeconds * 1000;
    for (let wait = DELETE_POLL_FIRST_MS; ; wait = Math.min(wait * 2, DELETE_POLL_MAX_MS)) {
      const left = await this.api.call("compute", "GET", `/servers/${encodeURIComponent(id)}`, `waiting for server ${id} to be deleted`);
      if (left.status === 404 || NOVA_STATUS[serverOf(left.body, "deleting").status ?? ""] === "terminated") return;
      if (this.now().getTime() >= deadline) {
        throw new ProviderError(`OpenStack still lists server ${id} as deleting after ${this.settings.deleteTimeoutSeconds} s.`, true, { serverId: id });
      }
      await this.sleep(wait);
    }
  }

  async sshLogin(): Promise<SshLogin> {
    return { username: this.settings.sshUser, privateKey: this.opts.credentials.sshPrivateKey };
  }

  /** Names become ids once per provider; a failed lookup is tried again on the next call. */
  private resolve(kind: RefKind, ref: string): Promise<string> {
    const key = `${kind}:${ref}`;
    let id = this.ids.get(key);
    if (!id) {
      id = resolveRef(this.api, kind, ref, this.opts.accountName).catch((err: unknown) => (this.ids.delete(key), Promise.reject(err)));
      this.ids.set(key, id);
    }
    return id;
  }

  private async toInfo(server: NovaServer): Promise<ServerInfo> {
    const { sshPort } = this.settings;
    let status = NOVA_STATUS[server.status ?? ""] ?? "unknown";
    if (isGoing(server)) status = "terminated";
    const publicIp = status === "booting" ? await this.reachableAddress(server) : addressOf(server, Boolean(this.settings.floatingNetwork));
    if (status === "booting" && publicIp && (await portAnswers(publicIp, sshPort, SSH_PROBE_MS))) status = "ready";
    // Nova's `fault` of a server in ERROR ("Show Server Details"): why it failed, for the operator.
    const fault = status === "failed" ? server.fault?.message || null : null;
    return { id: server.id, name: server.name, status, publicIp, sshPort, workDir: this.workDir, ...(fault ? { fault } : {}) };
  }

  /** On a tenant network (floatingNetwork set), the floating IP, made on first need; else the server's own address. */
  private async reachableAddress(server: NovaServer): Promise<string | null> {
    const floating = Boolean(this.settings.floatingNetwork);
    const known = addressOf(server, floating);
    if (known || !floating) return known;
    return ensureFloatingIp(this.api, server.id, await this.resolve("network", this.settings.floatingNetwork!));
  }
}

function serverOf(body: unknown, what: string): NovaServer {
  const server = (body as { server?: NovaServer } | null)?.server;
  if (!server?.id) throw new ProviderError(`OpenStack answered ${what} without a server in its reply.`, true);
  return server;
}

function isOcims(server: NovaServer): boolean {
  return server.metadata?.[OCIM_TAG.key] === OCIM_TAG.value && OCIM_NAME.test(server.name);
}

function isGoing(server: NovaServer): boolean {
  return server["OS-EXT-STS:task_state"] === "deleting" || NOVA_STATUS[server.status ?? ""] === "terminated";
}

/** A floating address first (reachable from outside); without one, when floating IPs are not used, accessIPv4 or any fixed IPv4. */
function addressOf(server: NovaServer, floatingOnly: boolean): string | null {
  const all = Object.values(server.addresses ?? {}).flat().filter((a) => a.addr && (a.version ?? 4) === 4);
  const floating = all.find((a) => a["OS-EXT-IPS:type"] === "floating")?.addr;
  if (floating || floatingOnly) return floating ?? null;
  return server.accessIPv4 || all[0]?.addr || null;
}
