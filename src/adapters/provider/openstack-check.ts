// "Test connection" of an OpenStack account: signs in with Keystone and looks up everything a
// launch needs (flavor, image, networks, the external network for floating IPs, the key pair) the
// way a launch does (openstack-lookup.ts), without creating anything. Each finding or error is one
// line; none carries a credential (openstack-api.ts scrubs the API's messages).
import { createOpenstackApi, type OpenstackApi, type OpenstackApiOptions } from "./openstack-api.js";
import { resolveRef, type RefKind } from "./openstack-lookup.js";
import { ProviderError, type ConnectionCheck } from "./port.js";

export async function checkOpenstackAccount(opts: OpenstackApiOptions): Promise<ConnectionCheck> {
  const api = createOpenstackApi(opts);
  const { settings, accountName } = opts;
  let endpoints;
  try {
    endpoints = await api.endpoints();
  } catch (err) {
    return { ok: false, lines: [reason(err)] };
  }
  const where = Object.entries(endpoints).map(([type, url]) => `${type} ${url}`).join(", ");
  const lines = [`Keystone accepted the credentials; endpoints: ${where}.`];
  let ok = true;
  const look = async (kind: RefKind, ref: string, label: string) => {
    try {
      const id = await resolveRef(api, kind, ref, accountName);
      return { line: `${label} "${ref}": found (id ${id}).`, id };
    } catch (err) {
      ok = false;
      return { line: `${label} "${ref}": ${reason(err)}`, id: null };
    }
  };
  const networks = [...settings.networks, ...settings.networkIds];
  const found = await Promise.all([
    look("flavor", settings.flavorRef, "Flavor"),
    look("image", settings.imageRef, "Image"),
    ...networks.map((n) => look("network", n, "Network")),
  ]);
  lines.push(...found.map((f) => f.line));
  if (!networks.length) lines.push("Networks: none set, so Nova picks the project's only network (a project with several refuses the server).");
  if (settings.floatingNetwork) {
    const floating = await look("network", settings.floatingNetwork, "External network");
    const external = floating.id ? await externalLine(api, floating.id, floating.line) : { ok: true, line: floating.line };
    if (!external.ok) ok = false;
    lines.push(external.line);
  }
  const key = await keyPairLine(api, settings.keyName);
  if (!key.ok) ok = false;
  lines.push(key.line);
  return { ok, lines };
}

/** Neutron's `router:external` (network api-ref "Show network details"): floating IPs come only from such a network. */
async function externalLine(api: OpenstackApi, id: string, found: string): Promise<{ ok: boolean; line: string }> {
  try {
    const res = await api.call("network", "GET", `/v2.0/networks/${encodeURIComponent(id)}`, `reading network ${id}`);
    const external = (res.body as { network?: { "router:external"?: boolean } } | null)?.network?.["router:external"];
    if (external === false) return { ok: false, line: `${found.slice(0, -1)}, but it is not an external network: floating IPs cannot come from it.` };
    return { ok: true, line: found };
  } catch (err) {
    return { ok: false, line: `${found} ${reason(err)}` };
  }
}

/** Nova "Show Keypair Details" (GET /os-keypairs/{name}): a key pair belongs to the signed-in user. */
async function keyPairLine(api: OpenstackApi, name: string): Promise<{ ok: boolean; line: string }> {
  try {
    const res = await api.call("compute", "GET", `/os-keypairs/${encodeURIComponent(name)}`, `looking up key pair ${name}`);
    if (res.status === 404) return { ok: false, line: `Key pair "${name}": Nova has no key pair of that name for this user.` };
    const fingerprint = (res.body as { keypair?: { fingerprint?: string } } | null)?.keypair?.fingerprint;
    return { ok: true, line: `Key pair "${name}": found${fingerprint ? ` (fingerprint ${fingerprint})` : ""}.` };
  } catch (err) {
    return { ok: false, line: `Key pair "${name}": ${reason(err)}` };
  }
}

function reason(err: unknown): string {
  if (err instanceof ProviderError) return err.message;
  throw err;
}
