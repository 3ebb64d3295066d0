// The tutor recipe: Ocim's playbook (playbooks/tutor/) installs Docker and Tutor on the VM and
// launches Open edX with Tutor. TODO(issue 13, tutor): the variables in Tutor's names and the
// shipped playbook. Until then it runs like the custom recipe.
import { customRecipe } from "./custom.js";
import type { RecipeDefinition } from "./recipe.js";

export const tutorRecipe: RecipeDefinition = {
  ...customRecipe,
  kind: "tutor",
  label: "Tutor (Docker, current releases)",
};
