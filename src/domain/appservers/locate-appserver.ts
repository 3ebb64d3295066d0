// One numbering for appservers (docs/glossary.md, "AppServer"): people know "AppServer 4" of an
// instance, so its page is /instances/<instance id>/appservers/4; the database id stays in the API,
// the jobs and the forms, and /appservers/<id> redirects to the page.
import type { Deps } from "../../deps.js";
import { notFound } from "../../errors.js";

/** The page of an appserver, from its instance and its number in it. */
export function appServerPagePath(a: { instanceId: number; number: number }): string {
  return `/instances/${a.instanceId}/appservers/${a.number}`;
}

/** The page of the appserver with this database id (404 when there is none). */
export async function appServerPathById(deps: Pick<Deps, "db">, input: { id: number }): Promise<string> {
  const row = await deps.db.appServer.findUnique({ where: { id: input.id }, select: { instanceId: true, number: true } });
  if (!row) throw notFound("AppServer");
  return appServerPagePath(row);
}
