// After an instance's settings change, its active appservers still run what they were launched with
// (DESIGN §3: an appserver is immutable), while the balancer sends the instance's domains to them at
// once. The admin's save says so, so that nobody takes the new settings for live.
import type { Db } from "../../db.js";
import type { Instance } from "../../generated/prisma/client.ts";
import { INSTANCE_INPUT_FIELDS } from "./instance-input.js";
import { activeAppServerNames } from "./archive-instance.js";

/** Settings that no launch copies into an appserver: labels, routing, the pull request, archiving. */
const NOT_LAUNCHED: ReadonlySet<string> = new Set([
  "slug", "tags", "isArchived", "loadBalancerId", "pullRequestUrl", "pullRequestState", "appserverCount",
]);
const LAUNCHED = INSTANCE_INPUT_FIELDS.filter((f) => !NOT_LAUNCHED.has(f));

/** The changed settings (form field names) that a launch would copy, between two versions of an instance. */
function launchedSettingsChanged(before: Instance, after: Instance): string[] {
  return LAUNCHED.filter((f) => JSON.stringify(before[f as keyof Instance]) !== JSON.stringify(after[f as keyof Instance]));
}

/** What to tell the admin who changed settings a launch copies while appservers are active, or null. */
export async function staleAppServersNote(db: Db, before: Instance, after: Instance): Promise<string | null> {
  if (!launchedSettingsChanged(before, after).length) return null;
  const active = await activeAppServerNames(db, after.id);
  if (!active.length) return null;
  return `${active.join(", ")} (active) ${active.length === 1 ? "keeps" : "keep"} the settings ${active.length === 1 ? "it was" : "they were"} launched with: ` +
    "launch a new appserver to put these changes live (Preview launch shows what it would change).";
}
