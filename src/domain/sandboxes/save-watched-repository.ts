// Creates or changes a watched repository (docs/pr-sandboxes.md) from the admin form. Its webhook
// secret is write-only like a provider account's credentials: encrypted with SECRET_KEY, never
// shown again, kept when an edit leaves it blank; audit events only say that it changed.
import type { Deps } from "../../deps.js";
import type { WatchedRepository } from "../../generated/prisma/client.ts";
import { notFound, validationError } from "../../errors.js";
import { diffRecords, recordAuditEvent, type Actor } from "../audit/record-audit-event.js";
import { FieldReader, type Input } from "../validation/field-reader.js";
import { uniqueViolationFields } from "../validation/unique-violation.js";

export const WATCHED_REPOSITORY_FIELDS = [
  "repository", "branchField", "templateInstanceId", "authors", "allowedAuthors", "relaunchOnPush", "keepDaysAfterClose", "webhookSecret",
] as const;
export const BRANCH_FIELDS = ["edx_platform", "configuration"] as const;
export const AUTHOR_RULES = ["org_members", "list"] as const;

const MASK = "••••••";
// GitHub's rules: an owner is 1-39 letters, digits and single hyphens; a repository name letters,
// digits, ".", "-" and "_" (up to 100).
const REPOSITORY_RE = /^([a-z0-9](?:[a-z0-9-]{0,38}))\/([a-z0-9._-]{1,100})$/;
const LOGIN_RE = /^[a-z0-9](?:[a-z0-9-]{0,38})$/;

export interface SaveWatchedRepositoryInput {
  actor: Actor;
  /** Absent: create. */
  id?: number;
  values: Input;
}

/** Days a sandbox is kept after its pull request closed, when the input leaves the field out (the form starts with it). */
export const DEFAULT_KEEP_DAYS_AFTER_CLOSE = 7;

/** `org`: GITHUB_ORG, whose members the org_members rule lets in. */
function readRepository(values: Input, org: string | undefined) {
  const r = new FieldReader(values, WATCHED_REPOSITORY_FIELDS);
  const repository = r.text("repository", { required: true, max: 140, lower: true }).replace(/^https:\/\/github\.com\//, "").replace(/\.git$/, "");
  const match = REPOSITORY_RE.exec(repository);
  if (repository && !match) r.fail("repository", 'Enter the repository as owner/name, like "my-org/edx-platform".');
  const branchField = r.choice("branchField", BRANCH_FIELDS, "edx_platform") ?? "edx_platform";
  const templateInstanceId = r.int("templateInstanceId", { min: 1, max: 2_147_483_647, fallback: null });
  if (templateInstanceId === null && !r.hasError("templateInstanceId")) r.fail("templateInstanceId", "Choose the instance sandboxes are made from.");
  const authors = r.choice("authors", AUTHOR_RULES, "org_members") ?? "org_members";
  // Saved, it would skip every pull request, and only the server log would say why.
  if (authors === "org_members" && !org && !r.hasError("authors")) {
    r.fail("authors", "GITHUB_ORG is not set, so there is no organization to check authors against: set GITHUB_ORG to the GitHub organization and restart Ocim, or choose the logins listed below.");
  }
  const allowedAuthors = r.lines("allowedAuthors", { maxItems: 500, maxLength: 39, lower: true });
  const badLogin = allowedAuthors.find((l) => !LOGIN_RE.test(l));
  if (badLogin) r.fail("allowedAuthors", `"${badLogin}" is not a GitHub login (letters, digits and -).`);
  if (authors === "list" && !allowedAuthors.length && !r.hasError("allowedAuthors")) r.fail("allowedAuthors", "List at least one GitHub login, one per line, or choose organization members.");
  const relaunchOnPush = r.bool("relaunchOnPush");
  // Sent blank, it is required: a cleared field had saved 7, and 7 days later the sandboxes of
  // closed pull requests went, where whoever cleared it may have meant "keep them".
  const keepDaysAfterClose = r.int("keepDaysAfterClose", { min: 0, max: 365, ifLeftOut: DEFAULT_KEEP_DAYS_AFTER_CLOSE });
  const webhookSecret = r.text("webhookSecret", { max: 200 });
  if (webhookSecret && webhookSecret.length < 16) r.fail("webhookSecret", "Use at least 16 characters (GitHub's own advice: a random string of high entropy).");
  if (!r.ok) throw validationError(r.errors);
  return {
    owner: match![1]!, name: match![2]!, branchField, templateInstanceId: templateInstanceId!, authors,
    allowedAuthors: authors === "list" ? [...new Set(allowedAuthors)] : [], relaunchOnPush, keepDaysAfterClose: keepDaysAfterClose!, webhookSecret,
  };
}

function auditView(repo: WatchedRepository, secretChanged: boolean): Record<string, unknown> {
  const { webhookSecretEncrypted, createdAt: _c, updatedAt: _u, lastPolledAt: _p, id: _i, ...rest } = repo;
  return { ...rest, webhookSecret: webhookSecretEncrypted ? (secretChanged ? `${MASK} (new)` : MASK) : "" };
}

export async function saveWatchedRepository(deps: Pick<Deps, "db" | "secrets" | "config">, input: SaveWatchedRepositoryInput): Promise<WatchedRepository & { title: string }> {
  const { webhookSecret, ...data } = readRepository(input.values, deps.config.GITHUB_ORG);
  try {
    const saved = await deps.db.$transaction(async (tx) => {
      const template = await tx.instance.findUnique({ where: { id: data.templateInstanceId }, select: { id: true, watchedRepositoryId: true } });
      if (!template) throw validationError({ templateInstanceId: "That instance does not exist (any more); choose another." });
      if (template.watchedRepositoryId !== null) throw validationError({ templateInstanceId: "That instance is itself a sandbox; choose the instance sandboxes should copy." });
      const before = input.id === undefined ? null : await tx.watchedRepository.findUnique({ where: { id: input.id } });
      if (input.id !== undefined && !before) throw notFound("Watched repository");
      const fields = { ...data, ...(webhookSecret ? { webhookSecretEncrypted: deps.secrets.encrypt(webhookSecret) } : {}) };
      const beforeView = before && auditView(before, false);
      const after = before
        ? await tx.watchedRepository.update({ where: { id: before.id }, data: fields })
        : await tx.watchedRepository.create({ data: fields });
      const afterView = auditView(after, Boolean(webhookSecret));
      if (before && !Object.keys(diffRecords(beforeView, afterView)).length) return after;
      await recordAuditEvent(tx, {
        actor: input.actor, action: before ? "watched_repository.updated" : "watched_repository.created", subjectType: "WatchedRepository",
        subjectId: after.id, subjectName: `${after.owner}/${after.name}`, before: beforeView, after: afterView,
      });
      return after;
    });
    return { ...saved, title: `${saved.owner}/${saved.name}` };
  } catch (err) {
    // The key is (owner, name), both read from the one Repository field: the message goes there, once.
    if (uniqueViolationFields(err)?.some((column) => column === "owner" || column === "name")) throw validationError({ repository: "This repository is watched already." });
    throw err;
  }
}
