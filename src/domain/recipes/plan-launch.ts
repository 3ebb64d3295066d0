// What a launch of an instance sends to its new appserver (the recipe, its playbook, the merged
// variables), read in the caller's transaction and writing nothing: the launch freezes it into
// the appserver's snapshot, and the launch preview shows it before anyone launches.
import type { Prisma } from "../../db.js";
import type { Config } from "../../config.js";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { basicAuthFor } from "../instances/secret.js";
import { instanceSecretVariables, tutorSecretVariables } from "../data/instance-secrets.js";
import { loadDataEndpoints } from "../data/load-endpoints.js";
import { bucketOrigins, instanceDataPlan } from "../data/plan.js";
import { vmName } from "../provisioning/provision-steps.js";
import { MAX_VARIABLES_JSON_BYTES, oversizeVariables, type BaseParts, type SshUser } from "../provisioning/variables.js";
import { recipeLaunch, type RecipeInstance } from "./recipe.js";
import { servedOverHttps, SITE_ROUTE_SELECT } from "../loadbalancer/site-url.js";
import type { Instance } from "../../generated/prisma/client.ts";

/** The GitHub members with SSH access and their keys, by login (COMMON_USER_INFO and its like). */
export async function sshUsersFrom(db: Pick<Prisma.TransactionClient, "githubKey">): Promise<SshUser[]> {
  const rows = await db.githubKey.findMany({ orderBy: [{ githubLogin: "asc" }, { id: "asc" }], select: { githubLogin: true, key: true } });
  const byLogin = new Map<string, string[]>();
  for (const r of rows) byLogin.set(r.githubLogin, [...(byLogin.get(r.githubLogin) ?? []), r.key]);
  return [...byLogin].map(([githubLogin, keys]) => ({ githubLogin, keys }));
}

export type LaunchPlan = ReturnType<typeof recipeLaunch>;

/** What a plan reads beside the database: the instance's secrets, and whether ACME issues certificates. */
export type PlanDeps = Pick<Deps, "secrets"> & { config: Pick<Config, "ACME_DIRECTORY_URL" | "LB_HTTP_PORT" | "LB_HTTPS_PORT"> };

/** `number`: the appserver's number (it names the VM). extra: the launch's own variables, merged last. */
export async function planLaunch(
  tx: Prisma.TransactionClient, deps: PlanDeps, instance: Instance & RecipeInstance, number: number, extra: Record<string, unknown> = {},
): Promise<LaunchPlan> {
  const { secrets } = deps;
  const sshUsers = await sshUsersFrom(tx);
  const services = await loadDataEndpoints(tx, secrets, instance);
  const route = await tx.instance.findUniqueOrThrow({ where: { id: instance.id }, select: SITE_ROUTE_SELECT });
  const parts: BaseParts = {
    // The appserver builds its URLs and cookies from it (Tutor's ENABLE_HTTPS): told HTTPS behind a
    // balancer that answers plain HTTP, it would send browsers where nobody answers and set secure
    // cookies they never send back over HTTP, so nobody could log in (docs/load-balancer.md).
    https: servedOverHttps(route, Boolean(deps.config.ACME_DIRECTORY_URL)),
    hostname: vmName(instance.slug, number),
    secrets: instanceSecretVariables(secrets, instance),
    tutorSecrets: tutorSecretVariables(secrets, instance),
    data: Object.keys(services).length ? { plan: instanceDataPlan(secrets, instance, bucketOrigins(deps.config, route, instance)), services } : undefined,
  };
  let plan: LaunchPlan;
  try {
    plan = recipeLaunch({ instance, auth: basicAuthFor(secrets, instance), sshUsers, parts }, extra);
  } catch (err) {
    // A recipe's own refusal (an AppError) says what is wrong; anything else is the YAML.
    if (err instanceof AppError) throw err;
    throw new AppError("validation", "The instance's extra ansible variables are not a YAML mapping. Fix them in the admin, then launch again.");
  }
  // Checked at save too; this catches variables saved before that check, and the merged whole.
  const size = oversizeVariables(plan.variables);
  if (size) {
    throw new AppError("validation", `The playbook variables of this instance expand to ${size}; at most ${MAX_VARIABLES_JSON_BYTES / 1_000_000} MB is allowed. ` +
      "Shorten the extra ansible variables in the admin, then launch again.");
  }
  return plan;
}
