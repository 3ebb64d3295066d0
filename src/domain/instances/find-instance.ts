// An instance named the way a person or a script names it: by id (the web's) or by slug (the CLI's).
import type { Prisma } from "../../db.js";
import { AppError } from "../../errors.js";

/** A number is an id (the web's); text is an id when digits, else (or when no id matches) a slug, which may be digits too. */
export async function findInstance(tx: Pick<Prisma.TransactionClient, "instance">, ref: number | string) {
  const text = String(ref).trim();
  const id = /^\d{1,9}$/.test(text) ? Number(text) : null;
  const byId = id !== null ? await tx.instance.findUnique({ where: { id } }) : null;
  const found = byId ?? (typeof ref === "number" ? null : await tx.instance.findUnique({ where: { slug: text.toLowerCase() } }));
  if (!found) throw new AppError("not_found", `No instance "${text}": give an instance's slug or id (the console shows both).`);
  return found;
}
