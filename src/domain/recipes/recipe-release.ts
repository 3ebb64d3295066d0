// Which Open edX releases each recipe can install (releases.ts has the table): tutor those from
// Quince on (Ocim's Tutor plugin needs Tutor 17's `caddyfile-proxy` patch), native only those
// openedx/configuration has a branch for (up to Quince), custom any git ref its own playbook
// understands. One rule for the admin form, the settings checked at boot and the launch (tutor.ts
// and native.ts refuse with the same message), so what saves also launches.
import type { Recipe } from "../../generated/prisma/enums.ts";
import { findRelease, OPENEDX_RELEASES, type OpenedxRelease } from "./releases.js";

/** The releases the native recipe installs: those with an openedx/configuration branch. */
export const NATIVE_RELEASES = OPENEDX_RELEASES.filter((r) => r.configurationBranch !== null);

/**
 * The oldest Tutor the tutor recipe runs: its Ocim plugin protects every host through the
 * `caddyfile-proxy` patch, which Tutor's Caddyfile has from v17 (Quince) on.
 */
export const TUTOR_MIN_MAJOR = 17;

/** The releases the tutor recipe installs. */
export const TUTOR_RELEASES = OPENEDX_RELEASES.filter((r) => r.tutorMajor >= TUTOR_MIN_MAJOR);

const names = (releases: readonly OpenedxRelease[]) => releases.map((r) => r.name).join(", ");

/** Null when `recipe` can install `release`, else what to do instead. */
export function recipeReleaseProblem(recipe: Recipe, release: string): string | null {
  if (recipe === "custom") return null;
  const known = findRelease(release);
  if (recipe === "tutor") {
    if (known && known.tutorMajor < TUTOR_MIN_MAJOR) {
      return `The tutor recipe installs ${TUTOR_RELEASES[0]!.name} and later (Tutor ${TUTOR_MIN_MAJOR}+): for ${known.name}, use the native recipe, or choose one of ${names(TUTOR_RELEASES)}.`;
    }
    return known ? null : `The tutor recipe installs a named Open edX release: choose one of ${names(TUTOR_RELEASES)}.`;
  }
  if (known && known.configurationBranch === null) {
    return `openedx/configuration stops at ${NATIVE_RELEASES.at(-1)!.name} (the repository is archived): for ${known.name}, use the tutor recipe, or choose one of ${names(NATIVE_RELEASES)}.`;
  }
  return known ? null : `The native recipe installs a release up to ${NATIVE_RELEASES.at(-1)!.name}: choose one of ${names(NATIVE_RELEASES)} (later releases: the tutor recipe).`;
}

/** "Tutor 21" for a tutor instance of a named release; null for other recipes or an unknown release. */
export function tutorVersionFor(recipe: Recipe, release: string): string | null {
  const known = recipe === "tutor" ? findRelease(release) : undefined;
  return known ? `Tutor ${known.tutorMajor}` : null;
}
