// The tutor recipe (docs/recipes.md): Ocim's own playbook (playbooks/tutor/, uploaded instead of a
// clone) installs Docker and the Tutor version of the instance's release on a fresh Ubuntu LTS VM,
// writes Tutor's config.yml from TUTOR_CONFIG and runs `tutor local launch --non-interactive`.
// TUTOR_CONFIG holds Tutor setting names only (overhangio/tutor templates/config/defaults.yml and
// base.yml; the MFE and S3 plugins' own settings); OCIM_* are what the playbook itself reads.
// tests/tutor-recipe.test.ts checks both lists against their sources.
import { createHash } from "node:crypto";
import { AppError } from "../../errors.js";
import type { InstanceDataPlan } from "../../adapters/data/port.js";
import { byRole, type DatabaseEndpoint, type DataEndpoints, type StorageEndpoint } from "../provisioning/data-variables.js";
import { OPENEDX_RELEASES, findRelease, releaseBranch, type OpenedxRelease } from "./releases.js";
import type { RecipeDefinition, RecipeInput, RecipeInstance } from "./recipe.js";
import { recipeReleaseProblem } from "./recipe-release.js";
import { siteScheme } from "../provisioning/variables.js";

/**
 * hastexo/tutor-contrib-s3, the plugin that points Open edX's file storage at S3, by Tutor major:
 * its README's compatibility table and each tag's setup.py pin ("tutor <N"). No release supports
 * Tutor 21 (v2.3.1, its newest, requires tutor <21), so Ulmo cannot use a storage service yet.
 */
export const S3_PLUGIN: Readonly<Record<number, string>> = {
  17: "git+https://github.com/hastexo/tutor-contrib-s3@v1.4.0",
  18: "git+https://github.com/hastexo/tutor-contrib-s3@v2.0.0",
  19: "git+https://github.com/hastexo/tutor-contrib-s3@v2.2.0",
  20: "git+https://github.com/hastexo/tutor-contrib-s3@v2.3.1",
};

/** Plugins every launch enables: Tutor's MFEs (the LMS of Quince and later needs them) and Ocim's own. */
const ALWAYS_PLUGINS = ["mfe"];
export const OCIM_PLUGIN = "ocim";

/**
 * Every variable the tutor playbook (playbooks/tutor/) reads, which tutorVariables sends: the extra
 * variables may override these, and nothing else at the top level does anything (recipe-variables.ts).
 */
export const TUTOR_PLAYBOOK_VARIABLES: readonly string[] = [
  "TUTOR_CONFIG", "OCIM_TUTOR_REQUIREMENT", "OCIM_TUTOR_MAJOR", "OCIM_TUTOR_PLUGINS", "OCIM_TUTOR_PIP_PLUGINS", "OCIM_TUTOR_BUILD_IMAGE",
  "OCIM_BASIC_AUTH_USER", "OCIM_BASIC_AUTH_PASSWORD", "OCIM_BASIC_AUTH_SALT", "OCIM_SSH_USERS", "OCIM_HOSTNAME",
];

const UPSTREAM_PLATFORM = /^https:\/\/github\.com\/openedx\/edx-platform(\.git)?\/?$/i;

/** The release an instance names, when the tutor recipe can install it (recipe-release.ts has the rule). */
export function tutorRelease(name: string): OpenedxRelease {
  const problem = recipeReleaseProblem("tutor", name);
  if (problem) throw new AppError("rule", problem);
  return findRelease(name)!;
}

/** pip's requirement for the Tutor of a release: its major version, the newest patch of it. */
export function tutorRequirement(release: OpenedxRelease): string {
  return `tutor[full]>=${release.tutorMajor}.0.0,<${release.tutorMajor + 1}.0.0`;
}

/** An instance's plugin entry: `name` (installed with Tutor, e.g. forum) or `name=pip requirement`. */
export function parsePluginEntry(entry: string): { name: string; pip: string | null } {
  const m = /^([a-z0-9_-]+)=(?!=)(.+)$/i.exec(entry.trim());
  return m ? { name: m[1]!, pip: m[2]!.trim() } : { name: entry.trim(), pip: null };
}

/**
 * The platform is the release's own (Tutor's image, built from the release's tag) unless the
 * instance names another repository or branch. "" and "master" mean the release's, as in the
 * native recipe: master does not build with a release's Tutor.
 */
function platformFork(instance: RecipeInstance, release: OpenedxRelease): { repository: string; version: string } | null {
  const branch = instance.edxPlatformBranch.trim();
  const releases = ["", "master", releaseBranch(release)];
  if (UPSTREAM_PLATFORM.test(instance.edxPlatformRepoUrl.trim()) && releases.includes(branch)) return null;
  return { repository: instance.edxPlatformRepoUrl.trim(), version: branch || releaseBranch(release) };
}

/**
 * Tutor's own MySQL off, its one database (OPENEDX_MYSQL_*) the plan's edxapp database and user.
 * MYSQL_ROOT_* name that same user, not the service's admin: Tutor's "root" jobs run as the
 * instance's own login, which can reach nothing else. Its init job's CREATE USER would fail with
 * that login; Ocim's plugin drops that job (the prepare-data step made the database and user).
 */
function mysqlConfig(plan: InstanceDataPlan, s: DatabaseEndpoint): Record<string, unknown> {
  const user = byRole(plan.mysql.users, "edxapp");
  return {
    RUN_MYSQL: false,
    MYSQL_HOST: s.host,
    MYSQL_PORT: s.port,
    MYSQL_ROOT_USERNAME: user.name,
    MYSQL_ROOT_PASSWORD: user.password,
    OPENEDX_MYSQL_DATABASE: byRole(plan.mysql.databases, "edxapp").name,
    OPENEDX_MYSQL_USERNAME: user.name,
    OPENEDX_MYSQL_PASSWORD: user.password,
  };
}

function mongodbConfig(plan: InstanceDataPlan, s: DatabaseEndpoint): Record<string, unknown> {
  const user = byRole(plan.mongodb.users, "edxapp");
  // Each user lives in its own database (port.ts), which is where it authenticates.
  return {
    RUN_MONGODB: false,
    MONGODB_HOST: s.host,
    MONGODB_PORT: s.port,
    MONGODB_DATABASE: user.database,
    MONGODB_USERNAME: user.name,
    MONGODB_PASSWORD: user.password,
    MONGODB_AUTH_SOURCE: user.database,
    MONGODB_USE_SSL: s.tls,
  };
}

/** tutor-contrib-s3's settings (tutors3/plugin.py) and Tutor's own AWS keys. */
function storageConfig(plan: InstanceDataPlan, s: StorageEndpoint): Record<string, unknown> {
  const endpoint = s.endpoint ? new URL(s.endpoint) : null;
  return {
    OPENEDX_AWS_ACCESS_KEY: s.accessKeyId,
    OPENEDX_AWS_SECRET_ACCESS_KEY: s.secretAccessKey,
    S3_STORAGE_BUCKET: plan.storage.bucket,
    S3_REGION: s.region,
    // Its README: on AWS leave HOST and PORT empty, ADDRESSING_STYLE auto. S3_CUSTOM_DOMAIN stays
    // unset everywhere: django-storages builds unsigned URLs for a custom domain, and the
    // instance's bucket is private (files are served through signed URLs from the endpoint).
    ...(endpoint
      ? {
          S3_HOST: endpoint.hostname,
          S3_PORT: endpoint.port || (endpoint.protocol === "https:" ? "443" : "80"),
          S3_USE_SSL: endpoint.protocol === "https:",
          S3_ADDRESSING_STYLE: s.forcePathStyle ? "path" : "auto",
        }
      : {}),
  };
}

function dataConfig(input: RecipeInput, release: OpenedxRelease): { config: Record<string, unknown>; pip: string[]; plugins: string[] } {
  const data = input.parts.data;
  if (!data) return { config: {}, pip: [], plugins: [] };
  const { plan, services }: { plan: InstanceDataPlan; services: DataEndpoints } = data;
  const config = {
    ...(services.mysql ? mysqlConfig(plan, services.mysql) : {}),
    ...(services.mongodb ? mongodbConfig(plan, services.mongodb) : {}),
    ...(services.storage ? storageConfig(plan, services.storage) : {}),
  };
  if (!services.storage) return { config, pip: [], plugins: [] };
  const problem = tutorStorageProblem(release);
  if (problem) throw new AppError("rule", problem);
  return { config, pip: [S3_PLUGIN[release.tutorMajor]!], plugins: ["s3"] };
}

/** Null when a tutor instance of `release` can keep its files on a storage service; else why not (the form says it too). */
export function tutorStorageProblem(release: OpenedxRelease): string | null {
  if (S3_PLUGIN[release.tutorMajor]) return null;
  return `The instance keeps its files on a storage service, but no release of tutor-contrib-s3 (the Tutor plugin for S3 storage) ` +
    `supports Tutor ${release.tutorMajor} (${release.name}) yet. Pick an earlier release (${OPENEDX_RELEASES.filter((r) => S3_PLUGIN[r.tutorMajor]).map((r) => r.name).join(", ")}) ` +
    "or remove the storage service from the instance.";
}

/** A bcrypt salt (22 characters of its alphabet) that is the same for every appserver of the instance and says nothing about the password. */
function basicAuthSalt(user: string, lmsHost: string): string {
  // Hex is a subset of bcrypt's alphabet; the last character must leave its 4 padding bits zero ("e").
  return `${createHash("sha256").update(`ocim-basic-auth:${user}@${lmsHost}`).digest("hex").slice(0, 21)}e`;
}

export function tutorVariables(input: RecipeInput): Record<string, unknown> {
  const { instance, auth, sshUsers, parts } = input;
  const release = tutorRelease(instance.openedxRelease);
  const entries = instance.tutorPlugins.map(parsePluginEntry).filter((p) => p.name);
  const data = dataConfig(input, release);
  const fork = platformFork(instance, release);
  const plugins = [...new Set([...ALWAYS_PLUGINS, ...entries.map((p) => p.name), ...data.plugins, OCIM_PLUGIN])];
  const lms = instance.internalLmsDomain;
  const config: Record<string, unknown> = {
    LMS_HOST: lms,
    CMS_HOST: instance.studioDomain,
    MFE_HOST: instance.appsDomain,
    PLATFORM_NAME: instance.name,
    CONTACT_EMAIL: `contact@${lms}`,
    // The balancer terminates TLS and sends plain HTTP to Caddy on CADDY_HTTP_PORT for every host:
    // Tutor's docs/sysadmin/proxy.rst ("Running Open edX behind a web proxy"). ENABLE_HTTPS says
    // only how the site is reached (its URLs' scheme, secure cookies): false behind a balancer
    // that serves plain HTTP (BaseParts.https). With ENABLE_WEB_PROXY false Caddy listens on :80
    // either way (tutor/templates/local/docker-compose.prod.yml: default_site_port); Tutor's
    // lms/production.py makes the session and CSRF cookies secure only with ENABLE_HTTPS.
    ENABLE_HTTPS: siteScheme(parts) === "https",
    ENABLE_WEB_PROXY: false,
    CADDY_HTTP_PORT: 80,
    ...parts.tutorSecrets,
    ...data.config,
    ...(fork
      ? {
          EDX_PLATFORM_REPOSITORY: fork.repository,
          EDX_PLATFORM_VERSION: fork.version,
          // Built on the VM by `tutor images build openedx`, never pulled: a name of the instance's own.
          DOCKER_IMAGE_OPENEDX: `ocim/openedx:${lms}`,
        }
      : {}),
    PLUGINS: plugins,
  };
  return {
    TUTOR_CONFIG: config,
    OCIM_TUTOR_REQUIREMENT: tutorRequirement(release),
    OCIM_TUTOR_MAJOR: release.tutorMajor,
    OCIM_TUTOR_PLUGINS: plugins,
    OCIM_TUTOR_PIP_PLUGINS: [...entries.flatMap((p) => (p.pip ? [p.pip] : [])), ...data.pip],
    OCIM_TUTOR_BUILD_IMAGE: fork !== null,
    OCIM_BASIC_AUTH_USER: auth.user,
    OCIM_BASIC_AUTH_PASSWORD: auth.password,
    OCIM_BASIC_AUTH_SALT: basicAuthSalt(auth.user, lms),
    OCIM_SSH_USERS: sshUsers.map((u) => ({ name: u.githubLogin, keys: u.keys })),
    OCIM_HOSTNAME: parts.hostname ?? lms,
  };
}

/** Installs Ubuntu's own ansible when the VM has none (a fresh Ubuntu LTS image has python3, not ansible). */
export const TUTOR_BOOTSTRAP =
  "command -v ansible-playbook >/dev/null 2>&1 || { sudo DEBIAN_FRONTEND=noninteractive apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q ansible-core; }";

export const tutorRecipe: RecipeDefinition = {
  kind: "tutor",
  label: "Tutor (Docker, current releases)",
  baseVariables: tutorVariables,
  playbook: () => ({ repoUrl: "", branch: "", shipped: "tutor", path: "site.yml", bootstrapCommand: TUTOR_BOOTSTRAP, sudo: true }),
};
