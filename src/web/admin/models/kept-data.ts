// Kept data in the admin: databases, users and buckets whose instance was deleted with its data
// kept, so none is forgotten on a shared service. Read-only here; an owner's whole data is
// dropped from its page (/admin/kept-data/owner/<owner>, kept-data-pages.ts).
import type { Prisma } from "../../../generated/prisma/client.ts";
import { formatBytes } from "../../view-helpers.js";
import { defineModel, type Cell } from "../types.js";

const listSelect = {
  id: true, owner: true, kind: true, name: true, status: true, sizeBytes: true, keptSince: true, checkedAt: true,
  service: { select: { name: true, kind: true } },
} as const;
type Row = Prisma.InstanceDataResourceGetPayload<{ select: typeof listSelect }>;

const KEPT = { instanceId: null } as const;
const kept = (where: object): Prisma.InstanceDataResourceWhereInput => ({ AND: [KEPT, where as Prisma.InstanceDataResourceWhereInput] });

export const keptOwnerPath = (owner: string) => `/admin/kept-data/owner/${encodeURIComponent(owner)}`;
const ownerCell = (r: Row): Cell => ({ text: r.owner, href: keptOwnerPath(r.owner), mono: true });
const serviceText = (r: Row) => `${r.service.name} (${r.service.kind})`;
// "—" for a user, as on the instance page and the deletion plan: a user has no size.
const size = (r: Row) => formatBytes(r.kind === "user" || r.sizeBytes === null ? null : Number(r.sizeBytes));

export const keptDataAdmin = defineModel<Row>({
  slug: "kept-data",
  name: "Kept data",
  plural: "Kept data",
  description: "Databases, users and buckets of deleted instances, still on their services.",
  titleOf: (r) => `${r.kind} ${r.name}`,
  list: {
    columns: [
      { label: "Owner", sort: "owner", cell: ownerCell },
      { label: "Service", cell: serviceText },
      { label: "Kind", cell: (r) => r.kind },
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/kept-data/${r.id}`, mono: true }) },
      { label: "Size", cell: size },
      { label: "Kept since", sort: "keptSince", cell: (r) => r.keptSince },
    ],
    search: { fields: ["owner", "name"], hint: "owner or name" },
    defaultOrder: "-keptSince",
    fetch: (db, args) => db.instanceDataResource.findMany({ ...(args as Prisma.InstanceDataResourceFindManyArgs), where: kept(args.where), select: listSelect }),
    count: (db, where) => db.instanceDataResource.count({ where: kept(where) }),
  },
  async detail(deps, id) {
    const r = await deps.db.instanceDataResource.findFirst({ where: { id, ...KEPT }, select: listSelect });
    if (!r) return null;
    return {
      title: `${r.kind} ${r.name}`,
      items: [
        { label: "Owner", value: ownerCell(r) },
        { label: "Service", value: serviceText(r) },
        { label: "Kind", value: r.kind },
        { label: "Name", value: { text: r.name, mono: true } },
        { label: "Size", value: size(r) },
        { label: "Status", value: r.status },
        { label: "Last checked", value: r.checkedAt },
        { label: "Kept since", value: r.keptSince },
      ],
    };
  },
});
