// Reading OpenStack's lists whole, and turning the names an operator writes into the ids Nova
// takes. Nova's "Create Server" wants flavorRef, imageRef and networks[].uuid as ids
// (https://docs.openstack.org/api-ref/compute/#create-server); a name there is a 400.
import type { OpenstackApi, OpenstackService } from "./openstack-api.js";
import { ProviderError } from "./port.js";

/** Beyond this many pages something loops (a marker the service ignores): stop rather than spin. */
const MAX_PAGES = 200;

/**
 * Every item of a paginated list. Nova and Neutron end a full page with a `<key>_links` entry
 * rel "next", Glance v2 with `next` (compute api-ref "Paginated collections"; network api-ref
 * "Pagination"; image api-ref v2 "List images"); each carries a `marker`. Only the marker is taken
 * from that link: behind a proxy the link's host may be one Ocim cannot reach.
 */
export async function listAll<T extends { id: string }>(api: OpenstackApi, service: OpenstackService, path: string, key: string, what: string): Promise<T[]> {
  const items: T[] = [];
  let marker: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await api.call(service, "GET", marker ? `${path}${sep}marker=${encodeURIComponent(marker)}` : path, what);
    const body = (res.body ?? {}) as Record<string, unknown>;
    const batch = Array.isArray(body[key]) ? (body[key] as T[]) : [];
    items.push(...batch);
    const next = nextMarker(body, key);
    if (!next || !batch.length || next === marker) return items;
    marker = next;
  }
  throw new ProviderError(`OpenStack kept answering more pages while ${what} (over ${MAX_PAGES}).`, false);
}

function nextMarker(body: Record<string, unknown>, key: string): string | null {
  const links = body[`${key}_links`] as { rel?: string; href?: string }[] | undefined;
  const href = links?.find((l) => l.rel === "next")?.href ?? (typeof body.next === "string" ? body.next : undefined);
  if (!href) return null;
  return new URL(href, "http://relative.invalid").searchParams.get("marker");
}

export type RefKind = "flavor" | "image" | "network";

interface Named {
  id: string;
  name?: string;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Where each kind is shown by id and listed by name. */
const WHERE: Record<RefKind, { service: OpenstackService; show: (id: string) => string; list: (name: string) => string; key: string; idShaped: (ref: string) => boolean }> = {
  // Nova flavor ids are free text ("3", "m1.small" on some clouds): always try the id first.
  flavor: { service: "compute", show: (id) => `/flavors/${id}`, list: () => "/flavors", key: "flavors", idShaped: () => true },
  // Glance v2 "List images" filters by name; image ids are UUIDs, so a name is never shown by id.
  image: { service: "image", show: (id) => `/v2/images/${id}`, list: (name) => `/v2/images?name=${name}`, key: "images", idShaped: (ref) => UUID.test(ref) },
  network: { service: "network", show: (id) => `/v2.0/networks/${id}`, list: (name) => `/v2.0/networks?name=${name}`, key: "networks", idShaped: (ref) => UUID.test(ref) },
};

/** The id of the flavor, image or network an operator named (by id or by name), or a permanent error saying what is wrong. */
export async function resolveRef(api: OpenstackApi, kind: RefKind, ref: string, account: string): Promise<string> {
  const where = WHERE[kind];
  const what = `looking up ${kind} ${ref}`;
  const encoded = encodeURIComponent(ref);
  if (where.idShaped(ref) && (await api.call(where.service, "GET", where.show(encoded), what)).status !== 404) return ref;
  const found = (await listAll<Named>(api, where.service, where.list(encoded), where.key, what)).filter((item) => item.name === ref);
  if (found.length === 1) return found[0]!.id;
  if (!found.length) throw new ProviderError(`OpenStack has no ${kind} named or with id "${ref}" (provider account "${account}").`, false, { kind, ref });
  const ids = found.map((f) => f.id).join(", ");
  throw new ProviderError(`OpenStack has ${found.length} ${kind}s named "${ref}" (${ids}): give the id instead (provider account "${account}").`, false, { kind, ref });
}
