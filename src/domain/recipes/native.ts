// The native recipe: openedx/configuration's openedx_native.yml for releases up to Quince, run as
// its native installer runs it. TODO(issue 13, native): the installer's bootstrap, release pins,
// services switched off, ports, sudo -E. Until then it runs like the custom recipe.
import { customRecipe } from "./custom.js";
import type { RecipeDefinition } from "./recipe.js";

export const nativeRecipe: RecipeDefinition = {
  ...customRecipe,
  kind: "native",
  label: "Native (openedx/configuration, up to Quince)",
};
