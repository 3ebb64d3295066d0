// The custom recipe: any repository and playbook, with the bootstrap command the instance gives
// (the demo is one). Its variables use openedx/configuration's names (provisioning/variables.ts),
// which custom playbooks written for Open edX read too.
import { generateBaseVariables } from "../provisioning/variables.js";
import type { RecipeDefinition } from "./recipe.js";

export const customRecipe: RecipeDefinition = {
  kind: "custom",
  label: "Custom repository and playbook",
  baseVariables: ({ instance, auth, sshUsers, parts }) => generateBaseVariables(instance, auth, sshUsers, parts),
  playbook: (instance) => ({
    repoUrl: instance.configurationRepoUrl,
    branch: instance.configurationBranch,
    path: instance.playbookPath,
    bootstrapCommand: instance.bootstrapCommand,
    sudo: false,
  }),
};
