// "Preview launch" and `npx ocim variables`: what a launch of an instance would send now (its
// recipe, the playbook, the merged variables), masked, and how that differs from the frozen
// variables of the appservers serving it. planLaunch runs with the number the next appserver would
// get, in a READ ONLY transaction: a preview never takes a number, makes a JWT key, or writes a row.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { readSnapshot } from "../appservers/config-snapshot.js";
import { basicAuthFor } from "../instances/secret.js";
import { vmName } from "../provisioning/provision-steps.js";
import { ansibleYaml } from "../provisioning/ansible-yaml.js";
import { CHANGED, createMasker, maskTree, secretValuesIn, shapedSecrets, type Masker } from "../secrets/mask-secrets.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import { planLaunch } from "./plan-launch.js";
import { RECIPES, type PlaybookSpec, type Recipe } from "./recipe.js";
import type { ProviderKind } from "../../generated/prisma/enums.ts";
import { tutorVersionFor } from "./recipe-release.js";
import { diffVariables, type VariablesDiff } from "./variables-diff.js";
import { findInstance } from "../instances/find-instance.js";
import { nextAppServerNumber } from "../appservers/next-number.js";

export interface PreviewInput {
  /** The instance's id (a number, or digits) or its slug. */
  instance: number | string;
}

/** The playbook as shown: secrets masked, and where it comes from in words. */
export type PlaybookView = Omit<PlaybookSpec, "shipped"> & { shipped: string | null; source: string };

export interface ActiveComparison {
  appServer: { id: number; name: string };
  /** Set when the appserver's frozen configuration cannot be read; then there is no diff. */
  error: string | null;
  /** The recipe and playbook settings that differ ("recipe: custom → tutor"), masked. */
  settings: string[];
  variables: VariablesDiff;
}

export interface LaunchPreview {
  instance: { id: number; name: string; slug: string };
  /** The appserver a launch now would make, and its VM. */
  appServerName: string;
  hostname: string;
  recipe: Recipe;
  providerKind: ProviderKind;
  recipeLabel: string;
  openedxRelease: string;
  tutorVersion: string | null;
  tutorPlugins: string[];
  playbook: PlaybookView;
  /** The merged variables, secrets masked, and the same as YAML sorted by name. */
  variables: Record<string, unknown>;
  variablesYaml: string;
  /** The instance has no JWT key yet: the first launch makes it, so its variables are not shown. */
  jwtKeyPending: boolean;
  active: ActiveComparison[];
}

export async function previewLaunch(deps: Pick<Deps, "db" | "secrets" | "config">, input: PreviewInput): Promise<LaunchPreview> {
  return deps.db.$transaction(async (tx) => {
    // Must be the transaction's first statement; any write below would now fail, not commit.
    await tx.$executeRawUnsafe("SET TRANSACTION READ ONLY");
    const instance = await findInstance(tx, input.instance);
    const number = await nextAppServerNumber(tx, instance.id);
    const plan = await planLaunch(tx, deps, instance, number);
    const active = await tx.appServer.findMany({
      where: { instanceId: instance.id, isActive: true }, orderBy: { number: "asc" }, select: { id: true, name: true, configSnapshot: true },
    });
    const snapshots = active.map((a) => {
      try {
        return { appServer: { id: a.id, name: a.name }, snapshot: readSnapshot(a.configSnapshot, a.name), error: null };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return { appServer: { id: a.id, name: a.name }, snapshot: null, error: err.message };
      }
    });
    // One masker for both sides, so a secret frozen into an appserver is masked in the diff too.
    const mask = createMasker([
      ...secretValuesIn(plan.variables), ...shapedSecrets(plan.playbook.bootstrapCommand), ...shapedSecrets(plan.playbook.repoUrl),
      basicAuthFor(deps.secrets, instance).password,
      ...snapshots.flatMap((s) => (s.snapshot ? snapshotSecrets(s.snapshot) : [])),
    ]);
    const variables = maskTree(plan.variables, mask) as Record<string, unknown>;
    const playbook = playbookView(plan.playbook, mask);
    return {
      instance: { id: instance.id, name: instance.name, slug: instance.slug },
      appServerName: `AppServer ${number}`,
      hostname: vmName(instance.slug, number),
      recipe: plan.recipe,
      providerKind: instance.providerKind,
      recipeLabel: RECIPES[plan.recipe].label,
      openedxRelease: instance.openedxRelease,
      tutorVersion: tutorVersionFor(instance.recipe, instance.openedxRelease),
      tutorPlugins: instance.tutorPlugins,
      playbook,
      variables,
      variablesYaml: ansibleYaml(variables, { sortMapEntries: true }),
      jwtKeyPending: !instance.jwtKeyEncrypted,
      active: snapshots.map(({ appServer, snapshot, error }) => ({
        appServer,
        error,
        ...(snapshot ? compareConfigurations(snapshot, plan, mask) : { settings: [], variables: { added: [], removed: [], changed: [] } }),
      })),
    };
  });
}

/** The playbook as shown (the preview, and each active appserver's frozen one for the comparison). */
export function playbookView(spec: { repoUrl: string; branch: string; path: string; bootstrapCommand: string; shipped?: string; sudo: boolean }, mask: Masker): PlaybookView {
  const shipped = spec.shipped ?? null;
  const repoUrl = mask(spec.repoUrl);
  return {
    repoUrl, branch: spec.branch, path: spec.path, bootstrapCommand: mask(spec.bootstrapCommand), shipped, sudo: spec.sudo,
    source: shipped ? `shipped with Ocim: playbooks/${shipped}/${spec.path}` : `${repoUrl} @ ${spec.branch}: ${spec.path}`,
  };
}

/** A configuration as launched or planned: what compareConfigurations reads of it. */
export interface LaunchedConfiguration {
  recipe: string;
  playbook: Parameters<typeof playbookView>[0];
  variables: Record<string, unknown>;
}

/**
 * How `after` differs from `before` (a frozen snapshot, or a plan of a launch now): the recipe and
 * playbook settings, and the variables name by name, every value shown through `mask` (a masker
 * that knows the secrets of both sides).
 */
export function compareConfigurations(before: LaunchedConfiguration, after: LaunchedConfiguration, mask: Masker): { settings: string[]; variables: VariablesDiff } {
  return {
    settings: settingChanges({ recipe: before.recipe, ...playbookView(before.playbook, mask) }, { recipe: after.recipe, ...playbookView(after.playbook, mask) }),
    variables: diffVariables({
      before: before.variables, after: after.variables,
      shownBefore: maskTree(before.variables, mask) as Record<string, unknown>, shownAfter: maskTree(after.variables, mask) as Record<string, unknown>,
    }, CHANGED),
  };
}

const COMPARED: [keyof (PlaybookView & { recipe: string }), string][] = [
  ["recipe", "recipe"], ["source", "playbook"], ["bootstrapCommand", "bootstrap command"], ["sudo", "run under sudo"],
];

const shown = (value: string | boolean | null) => (typeof value === "boolean" ? (value ? "yes" : "no") : value || "(none)");

function settingChanges(before: PlaybookView & { recipe: string }, after: PlaybookView & { recipe: string }): string[] {
  return COMPARED.filter(([key]) => before[key] !== after[key]).map(([key, label]) =>
    // A bootstrap command runs to a dozen lines (the native installer's): the new one is shown above.
    key === "bootstrapCommand" ? `${label}: changed` : `${label}: ${shown(before[key])} → ${shown(after[key])}`);
}
