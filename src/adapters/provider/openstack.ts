// The OpenStack provider (DESIGN §6): Nova servers through the compute endpoint of a Keystone v3
// token. A server is "ready" once it is ACTIVE and its SSH port answers; ACTIVE alone means the
// guest is still booting.
import { createOpenstackApi, type OpenstackApi, type OpenstackApiOptions } from "./openstack-api.js";
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

const SSH_PROBE_MS = 3_000;

interface NovaAddress {
  addr?: string;
  version?: number;
  "OS-EXT-IPS:type"?: string;
}

interface NovaServer {
  id: string;
  name: string;
  status?: string;
  accessIPv4?: string;
  addresses?: Record<string, NovaAddress[]>;
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

  constructor(private readonly opts: OpenstackApiOptions) {
    this.api = createOpenstackApi(opts);
    this.settings = opts.settings;
    const user = this.settings.sshUser;
    this.workDir = this.settings.workDir ?? (user === "root" ? "/root/ocim" : `/home/${user}/ocim`);
  }

  async createServer({ name, metadata = {} }: CreateServerInput): Promise<ServerInfo> {
    const { settings } = this;
    const what = `creating server ${name}`;
    const res = await this.api.compute("POST", "/servers", what, {
      server: {
        name,
        flavorRef: settings.flavorRef,
        imageRef: settings.imageRef,
        key_name: settings.keyName,
        metadata,
        ...(settings.securityGroups.length ? { security_groups: settings.securityGroups.map((g) => ({ name: g })) } : {}),
        ...(settings.networkIds.length ? { networks: settings.networkIds.map((uuid) => ({ uuid })) } : {}),
      },
    });
    if (res.status === 404) throw new ProviderError(`OpenStack answered 404 while ${what}: is the compute endpoint right?`, false);
    const created = serverOf(res.body, what);
    return { id: created.id, name, status: "building", publicIp: null, sshPort: settings.sshPort, workDir: this.workDir };
  }

  async getServer(id: string): Promise<ServerInfo | null> {
    const res = await this.api.compute("GET", `/servers/${encodeURIComponent(id)}`, `reading server ${id}`);
    if (res.status === 404) return null;
    return this.toInfo(serverOf(res.body, `reading server ${id}`));
  }

  async listServers(): Promise<{ id: string; name: string }[]> {
    const res = await this.api.compute("GET", "/servers?limit=1000", "listing servers");
    const body = res.body as { servers?: { id: string; name: string }[] };
    return (body.servers ?? []).map((s) => ({ id: s.id, name: s.name }));
  }

  async findServerByName(name: string): Promise<ServerInfo | null> {
    // Nova's name filter is a regular expression: anchor it and escape the name, so "x-as1" is not "x-as10".
    const pattern = `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
    const res = await this.api.compute("GET", `/servers?name=${encodeURIComponent(pattern)}`, `looking up server ${name}`);
    const servers = (res.body as { servers?: NovaServer[] } | null)?.servers ?? [];
    const match = servers.find((s) => s.name === name);
    return match ? this.getServer(match.id) : null;
  }

  async deleteServer(id: string): Promise<void> {
    await this.api.compute("DELETE", `/servers/${encodeURIComponent(id)}`, `deleting server ${id}`);
  }

  async sshLogin(): Promise<SshLogin> {
    return { username: this.settings.sshUser, privateKey: this.opts.credentials.sshPrivateKey };
  }

  private async toInfo(server: NovaServer): Promise<ServerInfo> {
    const publicIp = publicAddress(server);
    const { sshPort } = this.settings;
    let status = NOVA_STATUS[server.status ?? ""] ?? "unknown";
    if (status === "booting" && publicIp && (await portAnswers(publicIp, sshPort, SSH_PROBE_MS))) status = "ready";
    return { id: server.id, name: server.name, status, publicIp, sshPort, workDir: this.workDir };
  }
}

function serverOf(body: unknown, what: string): NovaServer {
  const server = (body as { server?: NovaServer } | null)?.server;
  if (!server?.id) throw new ProviderError(`OpenStack answered ${what} without a server in its reply.`, true);
  return server;
}

/** A floating address first (reachable from outside), then accessIPv4, then any fixed IPv4. */
function publicAddress(server: NovaServer): string | null {
  const all = Object.values(server.addresses ?? {}).flat().filter((a) => a.addr && (a.version ?? 4) === 4);
  const floating = all.find((a) => a["OS-EXT-IPS:type"] === "floating");
  return floating?.addr || server.accessIPv4 || all[0]?.addr || null;
}
