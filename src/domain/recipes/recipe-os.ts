// The OS each recipe's playbook runs on. A launch checks it on the VM itself (playbooks/tutor/site.yml's
// first task; native.ts's bootstrap, as openedx/configuration's native.sh does), which is the only
// place it can be known on a cloud. The local provider's VMs run this host's own OS, known before any
// launch: the admin form uses this rule to say so while the instance is being set up.
import type { OsRelease } from "../../adapters/provider/local-host-os.js";
import type { Recipe } from "../../generated/prisma/enums.ts";
import { NATIVE_UBUNTU } from "./native.js";

/** The Ubuntu versions the tutor recipe runs on (LTS: an even year, April); site.yml asserts the same pattern. */
export const TUTOR_UBUNTU_VERSION = /^[0-9]*[02468]\.04$/;

/** Null when `recipe` runs on `os`, else what it needs, as the launch's own check words it. */
export function recipeOsProblem(recipe: Recipe, os: OsRelease): string | null {
  const ubuntu = os.id === "ubuntu";
  if (recipe === "tutor" && !(ubuntu && TUTOR_UBUNTU_VERSION.test(os.versionId))) return "the tutor recipe runs on Ubuntu LTS (22.04, 24.04…)";
  if (recipe === "native" && !(ubuntu && os.versionId === NATIVE_UBUNTU)) return `the native recipe runs on Ubuntu ${NATIVE_UBUNTU} only`;
  return null;
}

/**
 * Null when an instance of `recipe` on `provider` can launch as far as the OS goes (or the OS is not
 * known before a launch), else what to choose instead.
 */
export function providerOsProblem(recipe: Recipe, provider: string, hostOs: OsRelease | null): string | null {
  if (provider !== "local" || !hostOs) return null;
  const needs = recipeOsProblem(recipe, hostOs);
  if (!needs) return null;
  return `The local provider's VMs run this host's OS (${hostOs.name}), and ${needs}, so this instance cannot launch: ` +
    "choose the custom recipe with a playbook for this host (as the demo instance does), or the openstack provider with an Ubuntu image.";
}
