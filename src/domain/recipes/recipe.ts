// Recipes (DESIGN §5, docs/recipes.md): how a launch turns an instance's settings into a playbook
// and its variables. Each recipe generates a base in its own variable names (tutor.ts: Tutor's
// settings; native.ts and custom.ts: openedx/configuration's); the instance's extra variables are
// deep-merged over it, and the launch's own over that (later wins). The result is frozen into the
// appserver's snapshot with the playbook it runs.
import { AppError } from "../../errors.js";
import type { BasicAuth } from "../instances/secret.js";
import { deepMerge, parseExtraVariables, type BaseParts, type SshUser, type VariableSource } from "../provisioning/variables.js";
import type { Recipe } from "../../generated/prisma/enums.ts";
import { customRecipe } from "./custom.js";
import { nativeRecipe } from "./native.js";
import { tutorRecipe } from "./tutor.js";

export type { Recipe };

/** The instance settings a recipe reads. */
export interface RecipeInstance extends VariableSource {
  recipe: Recipe;
  openedxRelease: string;
  appsDomain: string;
  tutorPlugins: string[];
  configurationRepoUrl: string;
  playbookPath: string;
  bootstrapCommand: string;
}

export interface RecipeInput {
  instance: RecipeInstance;
  auth: BasicAuth;
  sshUsers: SshUser[];
  parts: BaseParts;
}

/** What runs on the VM; frozen into the snapshot (config-snapshot.ts). */
export interface PlaybookSpec {
  /** A git repository cloned on the VM; empty when the playbook ships with Ocim (`shipped`). */
  repoUrl: string;
  branch: string;
  /** The playbook file, relative to the repository (or to the shipped directory). */
  path: string;
  /** Runs on the VM before ansible-playbook, in the same shell (so what it installs is on PATH). */
  bootstrapCommand: string;
  /** A directory under the project's playbooks/ uploaded to the VM instead of a clone. */
  shipped?: string;
  /** Run ansible-playbook under `sudo -E`, as the native installer does. */
  sudo: boolean;
}

export interface RecipeDefinition {
  kind: Recipe;
  label: string;
  /** The generated variables, in this recipe's own names, before any extra variables. */
  baseVariables(input: RecipeInput): Record<string, unknown>;
  playbook(instance: RecipeInstance): PlaybookSpec;
}

export const RECIPES: Record<Recipe, RecipeDefinition> = {
  tutor: tutorRecipe,
  native: nativeRecipe,
  custom: customRecipe,
};

export const RECIPE_KINDS = Object.keys(RECIPES) as Recipe[];

/**
 * The generated variables Ocim relies on itself, which no extra variable may set (whatever the
 * recipe, so a change of recipe never lets one through): each recipe's names for the appserver's
 * basic auth. The pair is the instance's (basicAuthFor), and the heartbeat wait, activation's health
 * gate, the balancer's health check and Authorization header (one per instance) and the
 * authenticated link all send it; an appserver launched with another password answers them 401.
 */
export const OCIM_OWNED_VARIABLES: readonly string[] = [
  "COMMON_HTPASSWD_USER", "COMMON_HTPASSWD_PASS", "OCIM_BASIC_AUTH_USER", "OCIM_BASIC_AUTH_PASSWORD", "OCIM_BASIC_AUTH_SALT",
];

/** Why `name` (one of OCIM_OWNED_VARIABLES) cannot be set, for the messages at save and at launch. */
export function ownedVariableReason(name: string): string {
  return `${name} is set by Ocim: the basic-auth login of every appserver comes from the instance's key, ` +
    "and Ocim's health checks, the load balancer and the authenticated link send it";
}

/** The playbook and the merged variables a launch of this instance sends (extra: the launch's own, merged last). */
export function recipeLaunch(input: RecipeInput, extra: Record<string, unknown> = {}): { recipe: Recipe; playbook: PlaybookSpec; variables: Record<string, unknown> } {
  const recipe = RECIPES[input.instance.recipe];
  const overrides = parseExtraVariables(input.instance.extraAnsibleVars);
  // Checked at save too (checkExtraVariables); this catches variables saved before that check.
  const owned = OCIM_OWNED_VARIABLES.find((name) => name in overrides || name in extra);
  if (owned) throw new AppError("validation", `${ownedVariableReason(owned)}. Remove it from the instance's extra ansible variables in the admin, then launch again.`);
  const variables = deepMerge(deepMerge(recipe.baseVariables(input), overrides), extra);
  return { recipe: recipe.kind, playbook: recipe.playbook(input.instance), variables };
}
