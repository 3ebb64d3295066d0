// Instances in the admin: settings, domains, code, deployment. Saving goes through the domain
// commands (validate/create/update/delete-instance), which the CLI uses too.
import { jsonTimestamp, readPage, type Db } from "../../../db.js";
import { Prisma } from "../../../generated/prisma/client.ts";
import { countMatching, searchCondition, searchPlanValues } from "../../../domain/instances/list-instances.js";
import type { Deps } from "../../../deps.js";
import { derivePrefixedDomains, PREFIXED_DOMAIN_FIELDS, PREFIXED_DOMAINS, DOMAIN_RE } from "../../../domain/instances/domains.js";
import { createInstance } from "../../../domain/instances/create-instance.js";
import { updateInstance } from "../../../domain/instances/update-instance.js";
import { staleAppServersNote } from "../../../domain/instances/stale-appservers.js";
import { newInstanceServiceDefaults } from "../../../domain/instances/new-instance-defaults.js";
import { deleteInstance, keptDataText } from "../../../domain/instances/delete-instance.js";
import { deleteInstanceWithData } from "../../../domain/instances/delete-instance-with-data.js";
import { instanceDataForDeletion } from "../../../domain/data/inspect-owner-data.js";
import { getInstanceDeletionImpact } from "../../../domain/instances/get-instance-deletion-impact.js";
import { derivedBranches, instanceDefaults, instanceToInput, LIMITS, PROVIDER_KINDS, PULL_REQUEST_STATES } from "../../../domain/instances/instance-input.js";
import { RECIPES, RECIPE_KINDS, type Recipe } from "../../../domain/recipes/recipe.js";
import { NATIVE_RELEASES, TUTOR_RELEASES } from "../../../domain/recipes/recipe-release.js";
import { providerOsProblem } from "../../../domain/recipes/recipe-os.js";
import { openstackAccountInUse } from "../../../adapters/provider/factory.js";
import { LEFT_OUT_OF_AUDIT } from "../../../domain/instances/audit-view.js";
import { maskedSettings, type SecretBearingSettings } from "../../../domain/secrets/instance-secrets.js";
import { MASK } from "../../../domain/secrets/mask-secrets.js";
import { SERVICE_COLUMNS } from "../../../domain/data/instance-services.js";
import type { DataServiceKind } from "../../../generated/prisma/enums.ts";
import { defineModel, type FormSection, type ListArgs, type Option, type PageArgs } from "../types.js";
import { choiceFilter, directionSql, orderedPage, plural, titled, whereAll, yesNoFilter } from "./common.js";
import { listTags } from "../../../domain/instances/list-tags.js";

const listSelect = {
  id: true, name: true, internalLmsDomain: true, providerKind: true, recipe: true, appserverCount: true, isArchived: true, updatedAt: true,
  pullRequestNumber: true,
} as const;

type Row = Prisma.InstanceGetPayload<{ select: typeof listSelect }> & { loadBalancerName: string | null };

/**
 * The generic way to a page (Prisma's findMany with the load balancer's name): what rawPage below
 * must agree with, and a test compares the two.
 */
async function fetchPage(db: Db, args: ListArgs): Promise<Row[]> {
  const rows = await db.instance.findMany({ ...(args as Prisma.InstanceFindManyArgs), select: { ...listSelect, loadBalancer: { select: { name: true } } } });
  return rows.map(({ loadBalancer, ...r }) => ({ ...r, loadBalancerName: loadBalancer?.name ?? null }));
}

// The name sorts as every instance list does (instancesByName: sortName, then id), in both queries.
const ORDER_FIELDS: Record<string, string> = { name: "sortName" };

// The columns the list sorts by (the engine only passes these), as SQL.
const SORT_SQL: Record<string, Prisma.Sql> = {
  name: Prisma.raw('i."sortName"'), internalLmsDomain: Prisma.raw('i."internalLmsDomain"'), providerKind: Prisma.raw('i."providerKind"'),
  isArchived: Prisma.raw('i."isArchived"'), updatedAt: Prisma.raw('i."updatedAt"'),
};

/**
 * The change list's page in one query. Not the engine's generic findMany: its model queries cost
 * several times the Node CPU of this one; measured side by side there, the generic list fell below
 * the page goal (bench/README.md). The search is the
 * console's (searchCondition: the trigram-indexed searchText), its matches counted in the same scan;
 * without a search the engine counts, and shares the count (change-list.ts): counting the 10,000
 * instances on every view had cost PostgreSQL 0.3–0.7 ms of its 1.3–1.8 ms per view. The filters
 * are those of `filters` below (tests/admin-changelist.test.ts).
 */
async function rawPage(db: Db, args: PageArgs): Promise<{ rows: Row[]; total: number | null }> {
  const conditions: Prisma.Sql[] = [];
  if (args.filters.archived) conditions.push(Prisma.sql`i."isArchived" = ${args.filters.archived === "yes"}`);
  if (args.filters.provider) conditions.push(Prisma.sql`i."providerKind"::text = ${args.filters.provider}`);
  if (args.filters.recipe) conditions.push(Prisma.sql`i.recipe::text = ${args.filters.recipe}`);
  if (args.filters.pr) conditions.push(args.filters.pr === "yes" ? Prisma.sql`i."pullRequestUrl" IS NOT NULL` : Prisma.sql`i."pullRequestUrl" IS NULL`);
  if (args.filters.tag) conditions.push(Prisma.sql`i.tags @> ARRAY[${args.filters.tag}]::text[]`);
  if (args.q) conditions.push(searchCondition(args.q));
  const where = whereAll(conditions);
  const counted = args.q ? Prisma.sql`count(*) OVER ()::int` : Prisma.sql`NULL::int`;
  const direction = directionSql(args);
  // JSON rows from the pool (readJson: the page's p95 needs it), each field named: no rest and spread.
  // Its first page is prepared when no parameter of it changes its plan (readPage): PostgreSQL had
  // planned the list on every view, 0.45 of its 1.5 ms (bench/README.md, 2026-12-04 21:25), and the
  // search 0.3 of its 1.2 (2026-12-05).
  const rows = await readPage<Omit<Row, "updatedAt"> & { updatedAt: string; total: number | null }>(db, Prisma.sql`
    SELECT p.id, p.name, p."internalLmsDomain", p."providerKind", p.recipe, p."appserverCount", p."isArchived", p."updatedAt",
           p."pullRequestNumber", p.total, lb.name AS "loadBalancerName"
    FROM (
      SELECT i.id, i.name, i."sortName", i."internalLmsDomain", i."providerKind", i.recipe, i."appserverCount", i."isArchived", i."updatedAt",
             i."pullRequestNumber", i."loadBalancerId", ${counted} AS total
      FROM "Instance" i ${where}
      ${orderedPage(SORT_SQL, Prisma.raw("i.id"), args)}
    ) p LEFT JOIN "LoadBalancer" lb ON lb.id = p."loadBalancerId"
    ORDER BY ${Prisma.raw(`p."${ORDER_FIELDS[args.sortField] ?? args.sortField}"`)} ${direction}, p.id ${direction}`,
    { firstPage: args.skip === 0, samePlanValues: searchPlanValues(args.q) });
  // An empty page says nothing about the count: only past the end can there be matches.
  const total = !args.q ? null : rows[0]?.total ?? (args.skip > 0 ? await countMatching(db, where) : 0);
  return {
    rows: rows.map((r) => ({
      id: r.id, name: r.name, internalLmsDomain: r.internalLmsDomain, providerKind: r.providerKind, recipe: r.recipe, appserverCount: r.appserverCount,
      isArchived: r.isArchived, updatedAt: jsonTimestamp(r.updatedAt), pullRequestNumber: r.pullRequestNumber, loadBalancerName: r.loadBalancerName,
    })),
    total,
  };
}

const choices = (values: readonly string[]): Option[] => values.map((v) => ({ value: v, label: v }));

/**
 * The load balancers and the data services to choose from: two queries for the four selects. Each
 * service select lists its kind's services, "none" first: without one the data stays on each appserver.
 */
async function formChoices(deps: Deps): Promise<Record<string, Option[]>> {
  const [balancers, services] = await Promise.all([
    deps.db.loadBalancer.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" }, take: 500 }),
    deps.db.dataService.findMany({ select: { id: true, name: true, kind: true, isDefault: true }, orderBy: [{ kind: "asc" }, { name: "asc" }], take: 1500 }),
  ]);
  const servicesOf = (kind: DataServiceKind): Option[] => [
    { value: "", label: "— none: on each appserver —" },
    ...services.filter((s) => s.kind === kind).map((s) => ({ value: String(s.id), label: s.isDefault ? `${s.name} (default)` : s.name })),
  ];
  return {
    loadBalancerId: [{ value: "", label: "— none —" }, ...balancers.map((b) => ({ value: String(b.id), label: b.name }))],
    ...Object.fromEntries(SERVICE_COLUMNS.map(({ kind, column }) => [column, servicesOf(kind)])),
  };
}

/** Why an openstack instance cannot launch yet (no OpenStack account: its launches would end `error`), or null. */
async function missingAccountProblem(deps: Deps, providerKind: string): Promise<string | null> {
  if (providerKind !== "openstack" || await openstackAccountInUse(deps.db)) return null;
  return "No OpenStack provider account is configured, so this instance cannot launch yet: add one under admin › Provider accounts (docs/providers.md).";
}

function derivedPlaceholder(field: keyof typeof PREFIXED_DOMAINS) {
  return (values: Record<string, string>) => {
    const lms = (values.internalLmsDomain ?? "").trim().toLowerCase();
    return DOMAIN_RE.test(lms) ? derivePrefixedDomains(lms)[field] : `${PREFIXED_DOMAINS[field]}.<LMS domain>`;
  };
}

/** A blank branch field shows the branch it stands for (derivedBranches), when the release names one. */
function branchPlaceholder(field: "edxPlatformBranch" | "configurationBranch", otherwise: string) {
  return (values: Record<string, string>) => {
    const recipe = (RECIPE_KINDS as string[]).includes(values.recipe ?? "") ? (values.recipe as Recipe) : "custom";
    return derivedBranches(recipe, values.openedxRelease ?? "")[field] ?? otherwise;
  };
}

const releaseNames = (releases: readonly { name: string }[]) => releases.map((r) => r.name).join(", ");
const NOT_FOR_TUTOR = "Not used by the tutor recipe, which runs the playbook shipped with Ocim (playbooks/tutor/).";

const labels: Record<string, string> = {
  studioDomain: "Studio domain", previewDomain: "Preview domain", ecommerceDomain: "Ecommerce domain",
  discoveryDomain: "Discovery domain", appsDomain: "Apps domain",
};

const KEEP_MASKED = `Secrets show as ${MASK}: leave one as it is to keep it, type over it to change it.`;

const sections: FormSection[] = [
  {
    title: "Instance",
    fields: [
      { name: "name", label: "Name", kind: "text", required: true, maxLength: LIMITS.name, help: "The slug (used in VM names) is derived from it when the instance is added, and never changes." },
      { name: "isArchived", label: "Archived", kind: "checkbox", help: "An archived instance cannot launch appservers." },
      { name: "tags", label: "Tags", kind: "textarea", rows: 2, mono: true, help: `Labels to group instances by, one per line (pilot, customer-x; at most ${LIMITS.tags}): the list's filter and the roll-out form choose instances by them.` },
    ],
  },
  {
    title: "Domains",
    help: "All domains must be unique across every instance. Leave a prefixed domain blank to derive it from the LMS domain.",
    fields: [
      { name: "internalLmsDomain", label: "LMS domain", kind: "text", required: true, maxLength: LIMITS.domain, mono: true, placeholder: "lms.example.com" },
      ...PREFIXED_DOMAIN_FIELDS.map((f) => ({ name: f, label: labels[f]!, kind: "text" as const, maxLength: LIMITS.domain, mono: true, half: true, placeholder: derivedPlaceholder(f) })),
      { name: "externalDomains", label: "External domains", kind: "textarea", rows: 3, mono: true, help: `Custom domains routed to this instance, one per line (at most ${LIMITS.externalDomains}).` },
    ],
  },
  {
    title: "Code",
    help: "How appservers become Open edX (docs/recipes.md). Blank fields take the console's defaults (DEFAULT_* settings); blank branches follow the release.",
    fields: [
      { name: "recipe", label: "Recipe", kind: "select", half: true, options: () => RECIPE_KINDS.map((k) => ({ value: k, label: `${k}: ${RECIPES[k].label}` })), help: "tutor: every named release, with Docker and Tutor. native: openedx/configuration, releases up to quince. custom: your own repository and playbook (any git ref as release)." },
      { name: "openedxRelease", label: "Open edX release", kind: "text", half: true, maxLength: LIMITS.release, mono: true, help: `tutor: ${releaseNames(TUTOR_RELEASES)}. native: ${releaseNames(NATIVE_RELEASES)} (later ones: use tutor). custom: any git ref. Blank: the default.` },
      { name: "tutorPlugins", label: "Tutor plugins", kind: "textarea", rows: 3, mono: true, help: `Tutor recipe only: the plugins to enable, one per line: a name that comes with Tutor (mfe, indigo, forum…) or name=<pip requirement> for one pip installs first (indigo=tutor-indigo>=21.0.0,<22); at most ${LIMITS.tutorPlugins}.` },
      { name: "edxPlatformRepoUrl", label: "edx-platform repository", kind: "text", half: true, maxLength: LIMITS.url, mono: true, help: "https://…, git@host:path or file:///…; blank for the default. A fork is built into the tutor recipe's image." },
      { name: "edxPlatformBranch", label: "edx-platform branch or commit", kind: "text", half: true, maxLength: LIMITS.ref, mono: true, placeholder: branchPlaceholder("edxPlatformBranch", "the default branch"), help: "Blank: the release's branch." },
      { name: "configurationRepoUrl", label: "Configuration repository", kind: "text", half: true, maxLength: LIMITS.url, mono: true, help: NOT_FOR_TUTOR },
      { name: "configurationBranch", label: "Configuration branch", kind: "text", half: true, maxLength: LIMITS.ref, mono: true, placeholder: branchPlaceholder("configurationBranch", "the default branch"), help: `Blank: for native, the release's branch; otherwise the default. ${NOT_FOR_TUTOR}` },
      { name: "playbookPath", label: "Playbook", kind: "text", half: true, maxLength: LIMITS.playbookPath, mono: true, help: `Path of the playbook inside the configuration repository. ${NOT_FOR_TUTOR}` },
      { name: "bootstrapCommand", label: "Bootstrap command", kind: "textarea", rows: 3, mono: true, maxLength: LIMITS.bootstrapCommand, help: `Shell command run in the configuration repository on a new VM before the playbook (e.g. pip install -r requirements.txt). Blank: none (native: the steps of openedx/configuration's native installer). ${NOT_FOR_TUTOR} ${KEEP_MASKED}` },
    ],
  },
  {
    title: "Deployment",
    fields: [
      { name: "extraAnsibleVars", label: "Extra ansible variables", kind: "textarea", rows: 8, mono: true, maxLength: LIMITS.extraAnsibleVars, help: `YAML mapping merged over the generated variables (NAME: value per line), except the basic-auth login, which Ocim sets (COMMON_HTPASSWD_*, OCIM_BASIC_AUTH_*). ${KEEP_MASKED}` },
      { name: "appserverCount", label: "Appserver count", kind: "number", half: true, required: true, help: `How many appservers should serve the instance (${LIMITS.appserverCount.min} to ${LIMITS.appserverCount.max}), for whoever launches and activates them: each launch starts one appserver.` },
      { name: "providerKind", label: "Provider", kind: "select", half: true, options: () => choices(PROVIDER_KINDS) },
      { name: "loadBalancerId", label: "Load balancer", kind: "select", half: true, help: "Routes the instance's domains; without one they answer 404. Preselected when there is only one." },
    ],
  },
  {
    title: "Data",
    help: "Where the instance's databases and files live, shared by all its appservers (admin › Data services). Without a service, each appserver keeps its own, lost when it is terminated. Once data exists on a service, the instance cannot move to another.",
    fields: [
      { name: "mysqlServiceId", label: "MySQL server", kind: "select", half: true },
      { name: "mongodbServiceId", label: "MongoDB server", kind: "select", half: true },
      { name: "storageServiceId", label: "Storage", kind: "select", half: true },
    ],
  },
  {
    title: "Pull request",
    help: "For sandboxes of a pull request: such an instance may be left with no active appserver.",
    fields: [
      { name: "pullRequestUrl", label: "Pull request URL", kind: "text", half: true, maxLength: LIMITS.url, mono: true, placeholder: "https://github.com/org/repo/pull/123" },
      { name: "pullRequestState", label: "Pull request state", kind: "select", half: true, options: () => [{ value: "", label: "—" }, ...choices(PULL_REQUEST_STATES)], help: "Open by default when a URL is given." },
    ],
  },
];

/**
 * The secret settings as the form shows them: masked, each mask kept as the stored secret on save
 * (updateInstance), so editing an instance never displays its secrets. A YAML text that does not
 * parse is shown as typed: the admin must be able to fix it, and its secrets cannot be located.
 */
function maskedForm(instance: SecretBearingSettings) {
  const masked = maskedSettings(instance);
  return { extraAnsibleVars: masked.extraVariables ?? instance.extraAnsibleVars, bootstrapCommand: masked.bootstrapCommand };
}

export const instanceAdmin = defineModel<Row>({
  slug: "instances",
  name: "Instance",
  plural: "Instances",
  description: "Open edX sites: domains, code and deployment settings.",
  subjectType: "Instance",
  siteUrl: async (_deps, id) => `/instances/${id}`,
  titleOf: (row) => row.name,
  list: {
    columns: [
      { label: "Name", sort: "name", cell: (r) => ({ text: r.name, href: `/admin/instances/${r.id}` }) },
      { label: "LMS domain", sort: "internalLmsDomain", cell: (r) => ({ text: r.internalLmsDomain, mono: true }) },
      { label: "Provider", sort: "providerKind", cell: (r) => r.providerKind },
      { label: "Recipe", cell: (r) => r.recipe },
      { label: "Load balancer", cell: (r) => r.loadBalancerName },
      // The setting, as the Django admin's list shows it. Not a count of the instance's appservers:
      // one per row cost PostgreSQL 0.25 of its 0.8 ms per view, and the list 13–18 % of its views
      // per second (bench/README.md, 2026-12-05 03:25); its page and admin › Appservers list them.
      { label: "Appserver count", cell: (r) => r.appserverCount },
      { label: "PR", cell: (r) => (r.pullRequestNumber === null ? null : `#${r.pullRequestNumber}`) },
      { label: "Archived", sort: "isArchived", cell: (r) => r.isArchived },
      { label: "Updated", sort: "updatedAt", cell: (r) => r.updatedAt },
    ],
    // The console's search (searchText: the name and every domain, trigram-indexed), in rawPage too.
    search: { fields: ["searchText"], hint: "name or domain" },
    filters: [
      yesNoFilter("archived", "Archived", (v) => ({ isArchived: v })),
      choiceFilter("provider", "Provider", "providerKind", PROVIDER_KINDS),
      choiceFilter("recipe", "Recipe", "recipe", RECIPE_KINDS),
      yesNoFilter("pr", "Pull request", (v) => (v ? { pullRequestUrl: { not: null } } : { pullRequestUrl: null })),
      { key: "tag", label: "Tag", options: async (deps) => (await listTags(deps)).map((t) => ({ value: t, label: t })), where: (v) => ({ tags: { has: v } }) },
    ],
    defaultOrder: "name",
    orderFields: ORDER_FIELDS,
    fetch: fetchPage,
    page: rawPage,
    count: (db, where) => db.instance.count({ where: where as Prisma.InstanceWhereInput }),
  },
  form: {
    sections,
    choices: formChoices,
    // A warning, not a refusal: the instance is still a valid setting (the same one launches on an
    // Ubuntu host, or after a change of provider), and refusing it would refuse the form's own defaults.
    warnings(deps, values): Record<string, string> {
      const recipe = (RECIPE_KINDS as string[]).includes(values.recipe ?? "") ? (values.recipe as Recipe) : null;
      const problem = recipe && providerOsProblem(recipe, values.providerKind ?? "", deps.hostOs);
      return problem ? { recipe: problem } : {};
    },
    async initial(deps) {
      return {
        // Blank branches follow the release the admin picks (derivedBranches).
        ...instanceDefaults(deps.config), edxPlatformBranch: "", configurationBranch: "", tutorPlugins: "", tags: "",
        appserverCount: "1", providerKind: "local", isArchived: "false",
        // The only balancer, when there is one; each kind's default data service.
        ...(await newInstanceServiceDefaults(deps.db)),
      };
    },
    async load(deps, id) {
      const instance = await deps.db.instance.findUnique({ where: { id }, include: { _count: { select: { appServers: true } } } });
      if (!instance) return null;
      return {
        title: instance.name,
        values: { ...instanceToInput(instance), ...maskedForm(instance) },
        readOnly: [
          { label: "Slug", value: { text: instance.slug, mono: true } },
          { label: "Appservers", value: instance._count.appServers },
          { label: "HTTPS certificate", value: { text: "Upload a certificate", href: `/admin/instances/${instance.id}/certificate` } },
          { label: "Created", value: instance.createdAt },
          { label: "Updated", value: instance.updatedAt },
        ],
      };
    },
    async save(deps, actor, id, values) {
      // The balancers' applies go with the change, in its transaction (bumpAndApply).
      const before = id === undefined ? null : await deps.db.instance.findUnique({ where: { id } });
      const saved = id === undefined ? await createInstance(deps, { actor, values }) : await updateInstance(deps, { actor, id, values });
      const problem = providerOsProblem(saved.recipe, saved.providerKind, deps.hostOs) ?? await missingAccountProblem(deps, saved.providerKind);
      const stale = before ? await staleAppServersNote(deps.db, before, saved) : null;
      return { ...titled(saved), ...(stale ? { note: stale } : {}), ...(problem ? { warning: problem } : {}) };
    },
  },
  // Keys of the instance's events that no form field names; the others read well as words (slug: "Slug").
  historyLabels: { appServer: "AppServer", pullRequestHeadSha: "Pull request head commit" },
  historyHidden: LEFT_OUT_OF_AUDIT,
  remove: {
    async impact(deps, _actor, ids) {
      const impact = await getInstanceDeletionImpact(deps, { ids });
      // One instance: ask its services now (sizes, what is really there); a selection: what was recorded.
      const data = await instanceDataForDeletion(deps, { ids: impact.map((i) => i.id), live: ids.length === 1 });
      return impact.map((i) => ({
        id: i.id,
        title: i.name,
        consequences: [
          `${plural(i.appServers, "appserver")}${i.appServers && !i.liveAppServers.length ? " (all terminated)" : ""}`,
          plural(i.logEntries, "log entry", "log entries"),
          ...(i.notificationChannels ? [`${plural(i.notificationChannels, "notification channel")} of its own, with their delivery logs`] : []),
        ],
        blocker: i.liveAppServers.length
          ? `${plural(i.liveAppServers.length, "appserver")} ${i.liveAppServers.length === 1 ? "is" : "are"} not terminated: ${i.liveAppServers.map((a) => `${a.name} (${a.status})`).join(", ")}. Terminate ${i.liveAppServers.length === 1 ? "it" : "them"} first.`
          : i.templateOf.length
            ? `It is the sandbox template of ${i.templateOf.join(", ")}: choose another template there, or stop watching ${i.templateOf.length === 1 ? "it" : "them"}, first.`
            : undefined,
        data: data.get(i.id)?.length ? { services: data.get(i.id)!, confirmWord: i.slug } : undefined,
      }));
    },
    async run(deps, actor, ids) {
      const result = await deleteInstance(deps, { actor, ids });
      const note = result.kept.map((k) => `The data of ${k.instance} was kept (owner "${k.owner}"): ${keptDataText(k)}. It is listed under Admin › Kept data.`).join(" ");
      return { deleted: result.deleted, note };
    },
    async removeWithData(deps, actor, id, confirmation) {
      return deleteInstanceWithData(deps, { actor, id, confirmation });
    },
  },
});
