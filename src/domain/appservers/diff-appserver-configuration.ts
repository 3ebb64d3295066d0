// "What changed?" for one appserver: its frozen configuration against the instance's current
// settings (what a launch or a relaunch now would send), or against the appserver launched before
// it. The comparison is the launch preview's (compareConfigurations), secrets masked for everyone.
// Reads only, in a READ ONLY transaction (planLaunch writes nothing; the guard makes sure).
import type { Deps } from "../../deps.js";
import { AppError, notFound } from "../../errors.js";
import { basicAuthFor } from "../instances/secret.js";
import { planLaunch } from "../recipes/plan-launch.js";
import { compareConfigurations, type LaunchedConfiguration } from "../recipes/preview-launch.js";
import type { VariablesDiff } from "../recipes/variables-diff.js";
import { createMasker, secretValuesIn, shapedSecrets } from "../secrets/mask-secrets.js";
import { snapshotSecrets } from "../secrets/instance-secrets.js";
import { readSnapshot } from "./config-snapshot.js";

export const DIFF_AGAINST = ["instance", "previous"] as const;
export type DiffAgainst = (typeof DIFF_AGAINST)[number];

export interface ConfigurationDiff {
  appServer: { id: number; name: string; instanceId: number; instanceName: string };
  against: DiffAgainst;
  /** What the appserver is compared with: the instance, or the appserver before it (null: none). */
  other: { id: number; name: string } | null;
  /** Why there is no diff (no earlier appserver, an unreadable snapshot, variables that do not parse). */
  unavailable: string | null;
  settings: string[];
  variables: VariablesDiff;
}

const NONE: VariablesDiff = { added: [], removed: [], changed: [] };

export async function diffAppServerConfiguration(deps: Pick<Deps, "db" | "secrets" | "config">, input: { appServerId: number; against: DiffAgainst }): Promise<ConfigurationDiff> {
  return deps.db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe("SET TRANSACTION READ ONLY");
    const row = await tx.appServer.findUnique({ where: { id: input.appServerId }, select: { id: true, name: true, number: true, configSnapshot: true, instance: true } });
    if (!row) throw notFound("AppServer");
    const { instance } = row;
    const base = { appServer: { id: row.id, name: row.name, instanceId: instance.id, instanceName: instance.name }, against: input.against };
    const empty = (other: ConfigurationDiff["other"], unavailable: string): ConfigurationDiff => ({ ...base, other, unavailable, settings: [], variables: NONE });
    let other: { id: number; name: string } | null = null;
    try {
      // `after` is this appserver when compared with the one before it, the instance's settings otherwise.
      const mine = readSnapshot(row.configSnapshot, row.name);
      let before: LaunchedConfiguration;
      let after: LaunchedConfiguration;
      const secrets: string[] = [...snapshotSecrets(mine)];
      if (input.against === "previous") {
        const previous = await tx.appServer.findFirst({
          where: { instanceId: instance.id, number: { lt: row.number } }, orderBy: { number: "desc" }, select: { id: true, name: true, configSnapshot: true },
        });
        if (!previous) return empty(null, `${row.name} is the first appserver of ${instance.name}: there is none before it to compare with.`);
        other = { id: previous.id, name: previous.name };
        before = readSnapshot(previous.configSnapshot, previous.name);
        after = mine;
        secrets.push(...snapshotSecrets(before));
      } else {
        // With this appserver's own number, so its hostname is not reported as a change: only settings are.
        const plan = await planLaunch(tx, deps, instance, row.number);
        before = mine;
        after = plan;
        secrets.push(...secretValuesIn(plan.variables), ...shapedSecrets(plan.playbook.bootstrapCommand), ...shapedSecrets(plan.playbook.repoUrl));
      }
      const mask = createMasker([...secrets, basicAuthFor(deps.secrets, instance).password]);
      return { ...base, other, unavailable: null, ...compareConfigurations(before, after, mask) };
    } catch (err) {
      // A frozen configuration that cannot be read, or instance variables that do not parse: said on the page.
      if (!(err instanceof AppError) || err.code === "not_found") throw err;
      return empty(other, err.message);
    }
  });
}
