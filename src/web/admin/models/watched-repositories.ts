// Watched repositories in the admin (docs/pr-sandboxes.md): which GitHub repositories' pull
// requests get sandbox instances, made from which template. The webhook secret is write-only like
// a provider account's credentials: never shown, a blank field on edit keeps it.
import type { Prisma } from "../../../db.js";
import { AUTHOR_RULES, BRANCH_FIELDS, DEFAULT_KEEP_DAYS_AFTER_CLOSE, saveWatchedRepository } from "../../../domain/sandboxes/save-watched-repository.js";
import { deleteWatchedRepository } from "../../../domain/sandboxes/delete-watched-repository.js";
import { defineModel, type Option } from "../types.js";
import { instanceOptions, plural } from "./common.js";

const listSelect = {
  id: true, owner: true, name: true, branchField: true, authors: true, relaunchOnPush: true, keepDaysAfterClose: true, lastPolledAt: true,
  webhookSecretEncrypted: true, templateInstance: { select: { id: true, name: true } }, _count: { select: { sandboxes: true } },
} as const;
type Row = Prisma.WatchedRepositoryGetPayload<{ select: typeof listSelect }>;

const BRANCH_LABELS: Record<(typeof BRANCH_FIELDS)[number], string> = {
  edx_platform: "edx-platform repository and branch",
  configuration: "configuration repository and branch (a configuration or theme fork)",
};
const AUTHOR_LABELS: Record<(typeof AUTHOR_RULES)[number], string> = {
  org_members: "members of the GitHub organization (GITHUB_ORG)",
  list: "the logins listed below",
};
const labelled = <T extends string>(labels: Record<T, string>): Option[] => (Object.keys(labels) as T[]).map((v) => ({ value: v, label: labels[v] }));

export const watchedRepositoryAdmin = defineModel<Row>({
  slug: "watched-repositories",
  name: "Watched repository",
  plural: "Watched repositories",
  description: "GitHub repositories whose pull requests get sandbox instances.",
  subjectType: "WatchedRepository",
  titleOf: (row) => `${row.owner}/${row.name}`,
  list: {
    columns: [
      { label: "Repository", sort: "name", cell: (r) => ({ text: `${r.owner}/${r.name}`, href: `/admin/watched-repositories/${r.id}` }) },
      { label: "Template", cell: (r) => ({ text: r.templateInstance.name, href: `/instances/${r.templateInstance.id}` }) },
      { label: "Branch into", cell: (r) => (r.branchField === "edx_platform" ? "edx-platform" : "configuration") },
      { label: "Authors", cell: (r) => (r.authors === "list" ? "listed" : "org members") },
      { label: "Sandboxes", cell: (r) => plural(r._count.sandboxes, "sandbox", "sandboxes") },
      { label: "Webhook secret", cell: (r) => (r.webhookSecretEncrypted ? "set" : "not set (polling only)") },
      { label: "Last polled", sort: "lastPolledAt", cell: (r) => r.lastPolledAt },
    ],
    search: { fields: ["owner", "name"], hint: "owner or name" },
    defaultOrder: "name",
    fetch: (db, args) => db.watchedRepository.findMany({ ...(args as Prisma.WatchedRepositoryFindManyArgs), select: listSelect }) as Promise<Row[]>,
    count: (db, where) => db.watchedRepository.count({ where: where as Prisma.WatchedRepositoryWhereInput }),
  },
  form: {
    sections: [
      {
        title: "Repository",
        fields: [
          { name: "repository", label: "Repository", kind: "text", required: true, maxLength: 140, mono: true, placeholder: "my-org/edx-platform", help: "owner/name on GitHub (GITHUB_URL)." },
          { name: "templateInstanceId", label: "Template instance", kind: "select", required: true, help: "Each sandbox copies its settings; its domains get pr<number>. in front (docs/pr-sandboxes.md)." },
          { name: "branchField", label: "The pull request's branch goes into", kind: "select", options: () => labelled(BRANCH_LABELS) },
        ],
      },
      {
        title: "Rules",
        fields: [
          { name: "authors", label: "Sandboxes for pull requests by", kind: "select", options: () => labelled(AUTHOR_LABELS) },
          { name: "allowedAuthors", label: "Allowed authors", kind: "textarea", rows: 4, mono: true, maxLength: 20_000, help: "GitHub logins, one per line (when the rule above is the list)." },
          { name: "relaunchOnPush", label: "Launch a new appserver for every new commit", kind: "checkbox" },
          { name: "keepDaysAfterClose", label: "Days to keep a sandbox after its pull request closed", kind: "number", required: true, help: "Then the cleanup terminates its appservers and archives it. 0: at the next cleanup." },
        ],
      },
      {
        title: "Webhook",
        help: `Add a webhook on GitHub: payload URL <console>/webhooks/github, content type application/json, the "Pull requests" event, and this secret. Stored encrypted and never shown again. Without one, pull requests are found by polling only (PR_SANDBOX_POLL_MINUTES).`,
        fields: [
          { name: "webhookSecret", label: "Webhook secret", kind: "secret", rows: 1, mono: true, maxLength: 200, help: "At least 16 characters. When editing, leave blank to keep the current secret." },
        ],
      },
    ],
    async choices(deps) {
      return { templateInstanceId: [{ value: "", label: "— choose —" }, ...(await instanceOptions(deps, { watchedRepositoryId: null, isArchived: false }))] };
    },
    initial: () => ({ branchField: "edx_platform", authors: "org_members", relaunchOnPush: "true", keepDaysAfterClose: String(DEFAULT_KEEP_DAYS_AFTER_CLOSE) }),
    async load(deps, id) {
      const r = await deps.db.watchedRepository.findUnique({ where: { id }, include: { _count: { select: { sandboxes: true } } } });
      if (!r) return null;
      return {
        title: `${r.owner}/${r.name}`,
        values: {
          repository: `${r.owner}/${r.name}`, templateInstanceId: String(r.templateInstanceId), branchField: r.branchField, authors: r.authors,
          allowedAuthors: r.allowedAuthors.join("\n"), relaunchOnPush: r.relaunchOnPush ? "true" : "false", keepDaysAfterClose: String(r.keepDaysAfterClose),
        },
        readOnly: [
          { label: "Webhook secret", value: r.webhookSecretEncrypted ? "set (encrypted)" : "not set: polling only" },
          { label: "Sandboxes", value: { text: plural(r._count.sandboxes, "sandbox", "sandboxes"), href: `/admin/instances?q=${encodeURIComponent(r.name)}` } },
          { label: "Last polled", value: r.lastPolledAt },
        ],
      };
    },
    save: async (deps, actor, id, values) => {
      const saved = await saveWatchedRepository(deps, { actor, id, values });
      return { id: saved.id, title: saved.title };
    },
  },
  remove: {
    async impact(deps, _actor, ids) {
      const rows = await deps.db.watchedRepository.findMany({ where: { id: { in: ids } }, select: { id: true, owner: true, name: true, _count: { select: { sandboxes: true } } } });
      return rows.map((r) => ({
        id: r.id, title: `${r.owner}/${r.name}`,
        consequences: [
          "Its pull requests no longer get sandboxes; its webhook is refused from then on.",
          `Its ${plural(r._count.sandboxes, "sandbox", "sandboxes")} stay as instances, and are no longer removed when their pull request closes.`,
        ],
      }));
    },
    run: (deps, actor, ids) => deleteWatchedRepository(deps, { actor, ids }),
  },
});
