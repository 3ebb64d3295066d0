// Recipes (DESIGN §5, docs/recipes.md): how a launch turns an instance's settings into a playbook
// and its variables. Each recipe generates a base in its own variable names (tutor.ts: Tutor's
// settings; native.ts and custom.ts: openedx/configuration's); the instance's extra variables are
// deep-merged over it, and the launch's own over that (later wins). The result is frozen into the
// appserver's snapshot with the playbook it runs.
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

/** The playbook and the merged variables a launch of this instance sends (extra: the launch's own, merged last). */
export function recipeLaunch(input: RecipeInput, extra: Record<string, unknown> = {}): { recipe: Recipe; playbook: PlaybookSpec; variables: Record<string, unknown> } {
  const recipe = RECIPES[input.instance.recipe];
  const variables = deepMerge(deepMerge(recipe.baseVariables(input), parseExtraVariables(input.instance.extraAnsibleVars)), extra);
  return { recipe: recipe.kind, playbook: recipe.playbook(input.instance), variables };
}
