// One numbering for appservers (docs/glossary.md, "AppServer"): people know "AppServer 4" of an
// instance, so its page is /instances/<instance id>/appservers/4; the database id stays in the API,
// the jobs and the forms, and /appservers/<id> redirects to the page.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";

/** The page of an appserver, from its instance and its number in it. */
export function appServerPagePath(a: { instanceId: number; number: number }): string {
  return `/instances/${a.instanceId}/appservers/${a.number}`;
}

/** The id of AppServer `number` of an instance (404 when it has none of that number). */
export async function appServerIdByNumber(deps: Pick<Deps, "db">, input: { instanceId: number; number: number }): Promise<number> {
  const row = await deps.db.appServer.findUnique({ where: { instanceId_number: input }, select: { id: true } });
  if (!row) throw notFound("AppServer");
  return row.id;
}

/** The page of the appserver with this database id (404 when there is none). */
export async function appServerPathById(deps: Pick<Deps, "db">, input: { id: number }): Promise<string> {
  const row = await deps.db.appServer.findUnique({ where: { id: input.id }, select: { instanceId: true, number: true } });
  if (!row) throw notFound("AppServer");
  return appServerPagePath(row);
}
