// `npx ocim variables`'s text: the launch preview (domain/recipes/preview-launch.ts) as an operator
// reads it in a terminal. Everything in it is already masked; this file only lays it out.
import type { LaunchPreview } from "../domain/recipes/preview-launch.js";

const line = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

function comparisonText(c: LaunchPreview["active"][number]): string[] {
  const out = [`Difference from ${c.appServer.name} (active):`];
  if (c.error) return [...out, `  cannot compare: ${c.error}`];
  const { added, removed, changed } = c.variables;
  if (!c.settings.length && !added.length && !removed.length && !changed.length) return [...out, "  none: the same recipe, playbook and variables."];
  return [
    ...out,
    ...c.settings.map((s) => `  ${s}`),
    ...added.map((v) => `  added    ${v.name}: ${line(v.value)}`),
    ...removed.map((v) => `  removed  ${v.name} (was ${line(v.value)})`),
    ...changed.map((v) => `  changed  ${v.name}: ${line(v.before)} → ${line(v.after)}`),
  ];
}

export function launchPreviewText(p: LaunchPreview): string {
  const recipe = [p.recipe, p.openedxRelease, p.tutorVersion].filter(Boolean).join(", ");
  return [
    `Instance:  ${p.instance.name} (${p.instance.slug}, id ${p.instance.id}); a launch now makes ${p.appServerName} (VM ${p.hostname})`,
    `Recipe:    ${recipe} (${p.recipeLabel})`,
    ...(p.recipe === "tutor" ? [`Plugins:   ${p.tutorPlugins.length ? p.tutorPlugins.join(", ") : "none"}`] : []),
    `Playbook:  ${p.playbook.source}`,
    `Bootstrap: ${p.playbook.bootstrapCommand.trim() || "none"}`,
    `Sudo:      ${p.playbook.sudo ? "yes (sudo -E)" : "no"}`,
    ...(p.jwtKeyPending ? ["JWT key:   none yet; the first launch makes it (its variables are not shown here)."] : []),
    "",
    "Variables (secrets masked):",
    p.variablesYaml.trimEnd(),
    "",
    ...(p.active.length ? p.active.flatMap(comparisonText) : ["No active appserver: nothing to compare with."]),
  ].join("\n");
}
