// An instance's slug names its VMs (`<slug>-as<N>`, DESIGN §5), so it is a short DNS-label-like
// string derived from the name once, unique, and never changed afterwards.
import type { Prisma } from "../../db.js";
import { LIMITS } from "./instance-input.js";

export function slugify(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    // Room for a "-NN" suffix when the slug is taken.
    .slice(0, LIMITS.slug - 4)
    .replace(/-+$/g, "");
  return base || "instance";
}

/**
 * `base`, or `base-2`, `base-3`… whichever is free: no instance has it, and no kept data of a
 * deleted instance is owned by it (a new instance with that slug would derive the same database
 * names and take that data over). Race-safe under the caller's instance lock.
 */
export async function freeSlug(tx: Pick<Prisma.TransactionClient, "instance" | "instanceDataResource">, base: string): Promise<string> {
  const near = { OR: [{ equals: base }, { startsWith: `${base}-` }] };
  const [taken, kept] = await Promise.all([
    tx.instance.findMany({ where: { OR: [{ slug: base }, { slug: { startsWith: `${base}-` } }] }, select: { slug: true } }),
    tx.instanceDataResource.findMany({ where: { OR: near.OR.map((c) => ({ owner: c })) }, select: { owner: true }, distinct: ["owner"] }),
  ]);
  const used = new Set([...taken.map((t) => t.slug), ...kept.map((k) => k.owner)]);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}
