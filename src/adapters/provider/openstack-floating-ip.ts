// Floating IPs through Neutron (https://docs.openstack.org/api-ref/network/v2/#floating-ips-floatingips).
// On a tenant network Nova gives a server only a private fixed address; Ocim allocates a floating
// IP from the configured external network, associated with the server's port in the same call.
// Each one carries the server's id in its description, so a resumed job finds it instead of
// allocating a second, and a deletion releases it even when the server (and so its port, and the
// association) is already gone: a floating IP outlives its port and stays allocated (and billed).
import type { OpenstackApi } from "./openstack-api.js";
import { ProviderError } from "./port.js";

interface FloatingIp {
  id: string;
  floating_ip_address: string;
  port_id: string | null;
}

/** The description that marks a floating IP as the one of this server (Neutron filters lists by it). */
export function floatingIpDescription(serverId: string): string {
  return `ocim server ${serverId}`;
}

function ofServer(api: OpenstackApi, serverId: string, what: string): Promise<FloatingIp[]> {
  const path = `/v2.0/floatingips?description=${encodeURIComponent(floatingIpDescription(serverId))}`;
  return api.call("network", "GET", path, what).then((res) => (res.body as { floatingips?: FloatingIp[] } | null)?.floatingips ?? []);
}

/**
 * The server's floating address: the one made earlier, else a new one on the server's port.
 * Null while the server has no port yet (Neutron makes it during the build).
 */
export async function ensureFloatingIp(api: OpenstackApi, serverId: string, externalNetworkId: string): Promise<string | null> {
  const what = `giving server ${serverId} a floating IP`;
  const ports = ((await api.call("network", "GET", `/v2.0/ports?device_id=${encodeURIComponent(serverId)}`, what)).body as { ports?: { id: string }[] } | null)?.ports ?? [];
  const port = ports[0];
  const [existing] = await ofServer(api, serverId, what);
  if (existing) {
    // "Update floating IP": re-associate one whose association was lost.
    if (!existing.port_id && port) await api.call("network", "PUT", `/v2.0/floatingips/${existing.id}`, what, { floatingip: { port_id: port.id } });
    return existing.floating_ip_address;
  }
  if (!port) return null;
  try {
    const res = await api.call("network", "POST", "/v2.0/floatingips", what, {
      floatingip: { floating_network_id: externalNetworkId, port_id: port.id, description: floatingIpDescription(serverId) },
    });
    return (res.body as { floatingip?: FloatingIp } | null)?.floatingip?.floating_ip_address ?? null;
  } catch (err) {
    // Two callers at once (the provisioning job and the SSH key sync): Neutron allows one floating
    // IP per fixed IP and answers the second 409 (FloatingIPPortAlreadyAssociated). Take the first's.
    const [winner] = err instanceof ProviderError && err.details.status === 409 ? await ofServer(api, serverId, what) : [];
    if (winner) return winner.floating_ip_address;
    throw err;
  }
}

/** Releases the server's floating IPs ("Delete floating IP"; one already gone is fine). */
export async function releaseFloatingIps(api: OpenstackApi, serverId: string): Promise<void> {
  const what = `releasing the floating IP of server ${serverId}`;
  for (const fip of await ofServer(api, serverId, what)) await api.call("network", "DELETE", `/v2.0/floatingips/${fip.id}`, what);
}
