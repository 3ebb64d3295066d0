// `ocim import fleet.yml [--dry-run]`: what the file would change, then (without --dry-run) the
// change made through the admin's own commands (saveLoadBalancer, saveProviderAccount,
// createInstance, updateInstance: the same validation, the same audit events). Entries are matched
// by key (a balancer's or an account's name, an instance's slug); a field left out stays as it is;
// nothing is ever deleted (what the console has and the file does not is listed, and left alone).
// Every entry is checked before the first change, so a file with a mistake changes nothing.
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import type { Actor } from "../audit/record-audit-event.js";
import { saveLoadBalancer } from "../loadbalancer/save-load-balancer.js";
import { validateLoadBalancer } from "../loadbalancer/validate-load-balancer.js";
import { saveProviderAccount } from "../providers/save-provider-account.js";
import { settingsToValues } from "../providers/account-fields.js";
import { createInstance } from "../instances/create-instance.js";
import { newInstanceServiceDefaults } from "../instances/new-instance-defaults.js";
import { updateInstance } from "../instances/update-instance.js";
import { validateInstance } from "../instances/validate-instance.js";
import { instanceDefaults, type InstanceInput } from "../instances/instance-input.js";
import { MASK } from "../secrets/mask-secrets.js";
import {
  balancerToEntry, exportFleet, fleetFileSchema, type BalancerEntry, type FleetFile, type InstanceEntry, type ProviderEntry,
} from "./fleet-file.js";

type Kind = "load balancer" | "provider account" | "instance";

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface FleetChange {
  kind: Kind;
  key: string;
  action: "create" | "update";
  fields: FieldChange[];
}

export interface ImportPlan {
  changes: FleetChange[];
  unchanged: number;
  /** "instance old-site": in the console, not in the file (left as it is). */
  notInFile: string[];
  problems: string[];
}

/** The file's text → its entries, or an error naming the line (YAML) or the entry and field. */
export function parseFleetFile(text: string): FleetFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : "";
    throw new AppError("validation", `The file is not valid YAML${where}: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = fleetFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.slice(0, 20).map((i) => `- ${describePath(raw, i.path)}: ${i.message}`);
  throw new AppError("validation", `The file does not have the shape \`ocim export\` writes:\n${lines.join("\n")}`);
}

/** instances[2].name → `instances[2] (slug "site-b").name`, so the reader finds the entry. */
function describePath(raw: unknown, path: PropertyKey[]): string {
  if (path.length === 0) return "the file";
  const [list, index, ...rest] = path;
  const entry = (raw as Record<string, unknown[]> | null)?.[String(list)]?.[Number(index)] as Record<string, unknown> | undefined;
  const key = entry?.slug ?? entry?.name;
  const head = typeof index === "number" ? `${String(list)}[${index}]${typeof key === "string" ? ` ("${key}")` : ""}` : String(list);
  return [head, ...rest.map(String)].join(".");
}

export async function planImport(deps: Pick<Deps, "db" | "config">, file: FleetFile): Promise<ImportPlan> {
  const current = await exportFleet(deps);
  const plan: ImportPlan = { changes: [], unchanged: 0, notInFile: [], problems: [] };
  const compare = <E extends object>(kind: Kind, keyOf: (e: E) => string, stored: E[], wanted: Partial<E>[], check: (merged: Partial<E>, isNew: boolean) => string[]) => {
    const byKey = new Map(stored.map((e) => [keyOf(e), e]));
    const seen = new Set<string>();
    for (const entry of wanted) {
      const key = keyOf(entry as E);
      if (seen.has(key)) {
        plan.problems.push(`${kind} "${key}" is in the file twice.`);
        continue;
      }
      seen.add(key);
      const before = byKey.get(key);
      const merged = { ...before, ...entry };
      plan.problems.push(...check(merged, !before).map((p) => `${kind} "${key}": ${p}`));
      const fields = (Object.keys(entry) as (keyof E & string)[])
        .filter((f) => JSON.stringify(before?.[f] ?? null) !== JSON.stringify(entry[f] ?? null))
        .map((field) => ({ field, before: before?.[field] ?? null, after: entry[field] ?? null }));
      if (before && !fields.length) plan.unchanged++;
      else plan.changes.push({ kind, key, action: before ? "update" : "create", fields });
    }
    for (const key of byKey.keys()) if (!seen.has(key)) plan.notInFile.push(`${kind} "${key}"`);
  };

  const balancerNames = new Set([...current.loadBalancers, ...file.loadBalancers].map((b) => b.name));
  const services = new Map((await deps.db.dataService.findMany({ select: { id: true, name: true } })).map((s) => [s.name, s.id]));
  compare<BalancerEntry>("load balancer", (b) => b.name, current.loadBalancers, file.loadBalancers, (merged) => {
    const result = validateLoadBalancer(balancerInput(merged));
    return result.ok ? [] : fieldProblems(result.errors);
  });
  compare<ProviderEntry>("provider account", (p) => p.name, current.providerAccounts, file.providerAccounts, (merged, isNew) =>
    isNew && merged.kind === "openstack"
      ? ["a new OpenStack account needs its credentials, which a fleet file never holds: create it in the admin area (Provider accounts), then import."]
      : []);
  compare<InstanceEntry>("instance", (i) => i.slug, current.instances, file.instances, (merged, isNew) => {
    const problems: string[] = [];
    const { input, unknown } = instanceInput(merged, {
      balancer: (n) => (balancerNames.has(n) ? PLACEHOLDER_ID : undefined),
      service: (n) => services.get(n),
    });
    problems.push(...unknown);
    if (isNew && [merged.extraAnsibleVars, merged.bootstrapCommand].some((t) => t?.includes(MASK))) {
      problems.push(`a new instance cannot take masked values (${MASK}): write the secrets into the file, or set them in the admin after the import.`);
    }
    const result = validateInstance(input, instanceDefaults(deps.config));
    if (!result.ok) problems.push(...fieldProblems(result.errors));
    return problems;
  });
  return plan;
}

/** Checks the whole file, then applies it entry by entry; returns what it changed. */
export async function applyImport(deps: Pick<Deps, "db" | "config" | "secrets">, file: FleetFile, actor: Actor): Promise<ImportPlan> {
  const plan = await planImport(deps, file);
  if (plan.problems.length) throw problemsError(plan.problems);
  const applied: string[] = [];
  const changed = (kind: Kind) => new Set(plan.changes.filter((c) => c.kind === kind).map((c) => c.key));
  try {
    const balancers = changed("load balancer");
    for (const entry of file.loadBalancers.filter((b) => balancers.has(b.name))) {
      const row = await deps.db.loadBalancer.findUnique({ where: { name: entry.name } });
      const merged: Partial<BalancerEntry> = { ...(row ? balancerToEntry(row) : {}), ...entry };
      await saveLoadBalancer(deps, { actor, id: row?.id, values: balancerInput(merged) });
      applied.push(`load balancer "${entry.name}"`);
    }
    const accounts = changed("provider account");
    for (const entry of file.providerAccounts.filter((p) => accounts.has(p.name))) {
      const row = await deps.db.providerAccount.findUnique({ where: { name: entry.name } });
      const values = { name: entry.name, kind: entry.kind ?? row?.kind ?? "local", ...settingsToValues(entry.settings ?? row?.settings ?? {}) };
      await saveProviderAccount(deps, { actor, id: row?.id, values });
      applied.push(`provider account "${entry.name}"`);
    }
    const instances = changed("instance");
    const [lbIds, services] = await Promise.all([
      deps.db.loadBalancer.findMany({ select: { id: true, name: true } }).then((rows) => new Map(rows.map((r) => [r.name, r.id]))),
      deps.db.dataService.findMany({ select: { id: true, name: true } }).then((rows) => new Map(rows.map((r) => [r.name, r.id]))),
    ]);
    for (const entry of file.instances.filter((i) => instances.has(i.slug))) {
      const row = await deps.db.instance.findUnique({ where: { slug: entry.slug }, select: { id: true } });
      const { input } = instanceInput(entry, { balancer: (n) => lbIds.get(n), service: (n) => services.get(n) });
      if (row) await updateInstance(deps, { actor, id: row.id, values: input });
      // A field the entry leaves out takes what the admin's Add form starts on (routing, shared data).
      else await createInstance(deps, { actor, values: { ...(await newInstanceServiceDefaults(deps.db)), ...input } });
      applied.push(`instance "${entry.slug}"`);
    }
  } catch (err) {
    const reason = err instanceof AppError && err.details.fields ? fieldProblems(err.details.fields as Record<string, string>).join("; ") : (err as Error).message;
    const done = applied.length ? `Applied before it: ${applied.join(", ")}.` : "Nothing was applied.";
    throw new AppError(err instanceof AppError ? err.code : "internal", `The import stopped at change ${applied.length + 1} of ${plan.changes.length}: ${reason}\n${done} Fix the file and import again (what is applied shows as unchanged).`);
  }
  return plan;
}

/** The plan as `ocim import` prints it: one line per entry, then its fields (masked values stay masked). */
export function describePlan(plan: ImportPlan): string[] {
  const lines: string[] = [];
  for (const c of plan.changes) {
    lines.push(`${c.action === "create" ? "+" : "~"} ${c.kind} "${c.key}"${c.action === "create" ? " (new)" : ""}`);
    for (const f of c.fields) {
      if (c.action === "create") lines.push(`    ${f.field}: ${show(f.after)}`);
      else if (isBlock(f.before) || isBlock(f.after)) lines.push(`    ${f.field}:`, ...lineDiff(String(f.before ?? ""), String(f.after ?? "")).map((l) => `      ${l}`));
      else lines.push(`    ${f.field}: ${show(f.before)} → ${show(f.after)}`);
    }
  }
  for (const key of plan.notInFile) lines.push(`  ${key}: not in the file, left as it is`);
  const changes = plan.changes.length;
  lines.push(changes ? `${changes} change(s), ${plan.unchanged} unchanged.` : `No changes (${plan.unchanged} unchanged).`);
  return lines;
}

export function problemsError(problems: string[]): AppError {
  return new AppError("validation", `Nothing was changed; the file has ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join("\n")}`);
}

// A balancer the same import creates has no id yet: validation only needs one that is valid.
const PLACEHOLDER_ID = 2_147_483_647;

function balancerInput(entry: Partial<BalancerEntry>): Record<string, string> {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]));
}

function instanceInput(entry: Partial<InstanceEntry>, ids: { balancer(name: string): number | undefined; service(name: string): number | undefined }): { input: InstanceInput; unknown: string[] } {
  const unknown: string[] = [];
  const input: InstanceInput = {};
  const refs = { loadBalancer: ["loadBalancerId", ids.balancer, "load balancer"], mysqlService: ["mysqlServiceId", ids.service, "MySQL server"], mongodbService: ["mongodbServiceId", ids.service, "MongoDB server"], storageService: ["storageServiceId", ids.service, "storage account"] } as const;
  for (const [field, value] of Object.entries(entry)) {
    if (field in refs) {
      const [idField, lookup, what] = refs[field as keyof typeof refs];
      const id = value === null ? null : lookup(String(value));
      if (id === undefined) unknown.push(`${field}: there is no ${what} named "${String(value)}" in the console or the file.`);
      input[idField] = id === null || id === undefined ? "" : String(id);
    } else if (Array.isArray(value)) input[field] = value.join("\n");
    else input[field] = typeof value === "boolean" ? String(value) : value === null ? "" : String(value);
  }
  return { input, unknown };
}

function fieldProblems(errors: Record<string, string>): string[] {
  return Object.entries(errors).map(([field, message]) => `${field}: ${message}`);
}

function isBlock(value: unknown): boolean {
  return typeof value === "string" && value.includes("\n");
}

function show(value: unknown): string {
  return value === null || value === "" ? "(blank)" : JSON.stringify(value);
}

/** Lines removed (-) and added (+), in order, with the common ones left out. */
function lineDiff(before: string, after: string): string[] {
  const a = before.split("\n"), b = after.split("\n");
  const common = new Set(a.filter((l) => b.includes(l)));
  return [...a.filter((l) => !common.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !common.has(l)).map((l) => `+ ${l}`)];
}
