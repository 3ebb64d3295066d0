// The frozen configuration of an appserver (AppServer.configSnapshot): what launch copied from the
// instance, read back through one versioned schema instead of a cast (STYLE: parse stored JSON).
// Version 1 is the shape launch wrote before recipes; rows from before the `version` field are that
// shape too, so a missing version reads as 1. Version 2 adds the recipe and how its playbook runs
// (shipped with Ocim, under sudo); a version-1 row reads as the custom recipe it was, cloned and
// run as the user. Stored rows are never rewritten.
import { z } from "zod";
import { AppError } from "../../errors.js";

export const SNAPSHOT_VERSION = 2;

const snapshotV1 = z.object({
  version: z.union([z.literal(1), z.literal(2)]).default(1),
  /** recipes/recipe.ts; version 1 had none: its playbooks were the custom recipe's. */
  recipe: z.enum(["tutor", "native", "custom"]).default("custom"),
  /** Every instance setting at launch (not its encrypted master key); the slug names the VM. */
  instance: z.looseObject({ slug: z.string().min(1) }),
  playbook: z.object({
    repoUrl: z.string(),
    branch: z.string(),
    path: z.string(),
    bootstrapCommand: z.string(),
    /** A directory of the project's playbooks/ uploaded instead of a clone (PlaybookSpec). */
    shipped: z.string().optional(),
    sudo: z.boolean().default(false),
  }),
  /** The merged playbook variables, as sent to the VM (secrets included: never shown unmasked). */
  variables: z.record(z.string(), z.unknown()),
  providerKind: z.string(),
  launchedAt: z.iso.datetime(),
});

export type ConfigSnapshot = z.infer<typeof snapshotV1>;

// What the load balancer reads of every active appserver at each apply: the recipe and the
// variables that name its HTTP port (httpPortOf), not the ~150 others. A whole readSnapshot per
// appserver was most of a render (bench/lb-config, 150 variables each: rows → render input took
// ~550 ms CPU for 10,000 appservers, against ~500 ms for haproxy -c on the result). Zod's objects
// strip keys they do not name without visiting their values.
const routingView = z.object({
  version: snapshotV1.shape.version,
  recipe: snapshotV1.shape.recipe,
  variables: z.object({
    EDXAPP_LMS_NGINX_PORT: z.unknown().optional(),
    TUTOR_CONFIG: z.unknown().optional(),
  }),
});

export type SnapshotRouting = z.infer<typeof routingView>;

/** The stored JSON of a snapshot as it is written (with its version). */
export function writeSnapshot(snapshot: Omit<ConfigSnapshot, "version">): ConfigSnapshot {
  return { ...snapshot, version: SNAPSHOT_VERSION };
}

/**
 * Parses a stored snapshot. A malformed one (hand-edited, cut short, from a version this code does
 * not know) is AppError("internal") naming the first field that is wrong, never a crash further on.
 */
export function readSnapshot(json: unknown, appServerName = "this appserver"): ConfigSnapshot {
  return parseStored(snapshotV1, json, appServerName);
}

/** The part of a snapshot that says where the appserver serves HTTP (httpPortOf), for the balancer. */
export function readSnapshotRouting(json: unknown, appServerName = "this appserver"): SnapshotRouting {
  return parseStored(routingView, json, appServerName);
}

function parseStored<T>(schema: z.ZodType<T>, json: unknown, appServerName: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.join(".") : "the whole value";
  throw new AppError("internal", `The frozen configuration of ${appServerName} cannot be read (${where}: ${issue.message}).`, { field: where });
}
