// The native recipe: openedx/configuration's playbooks/openedx_native.yml for the releases it has a
// branch for (Maple to Quince: releases.ts), run the way its native installer runs it. Read from
// openedx/configuration's open-release/{maple,nutmeg,olive,palm,quince}.master:
// - util/install/native.sh checks `lsb_release -rs` = 20.04, installs build packages with apt,
//   pins pip (20.3.4 up to Nutmeg, 21.2.1 from Olive), setuptools 44.1.0 and virtualenv 20.2.0,
//   passes `-e <NAME>=$OPENEDX_RELEASE` for each of its VERSION_VARS, and runs
//   `cd playbooks && sudo -E ansible-playbook -c local ./openedx_native.yml -i "localhost," -e@config.yml …`.
// - util/install/ansible-bootstrap.sh installs ansible into a virtualenv and runs the virtualenv's
//   ansible-playbook; `make requirements` installs requirements/pip.txt (from Olive) then
//   requirements.txt (ansible 2.8 up to Nutmeg, 2.10 from Olive).
// - openedx_native.yml turns services on with SANDBOX_ENABLE_* (ecommerce, discovery, analytics
//   API and insights on by default); LMS listens on EDXAPP_LMS_NGINX_PORT (80 there) as nginx's
//   default server, Studio on EDXAPP_CMS_NGINX_PORT (18010, server_name CMS_HOSTNAME), the MFEs on
//   MFE_DEPLOY_NGINX_PORT (19010 there, server_name MFE_DEPLOY_COMMON_HOSTNAME, MFE_BASE the host
//   the LMS links to); NGINX_SET_X_FORWARDED_HEADERS is true ("Set to false if deployed behind
//   another proxy/load balancer").
// Ocim sends every variable in extra vars (-e @vars.yml), which win over the play's own vars.
import { AppError } from "../../errors.js";
import { generateBaseVariables, siteScheme } from "../provisioning/variables.js";
import { findRelease, releaseBranch, type OpenedxRelease } from "./releases.js";
import type { RecipeDefinition, RecipeInstance } from "./recipe.js";
import { recipeReleaseProblem } from "./recipe-release.js";

export const NATIVE_PLAYBOOK = "playbooks/openedx_native.yml";
/** native.sh and ansible-bootstrap.sh clone this one. */
export const NATIVE_CONFIGURATION_REPO = "https://github.com/openedx/configuration.git";

/** native.sh's VERSION_VARS (the same list from Maple to Quince): each is pinned to the release. */
export const NATIVE_VERSION_VARS = [
  "EDX_PLATFORM_VERSION", "FORUM_VERSION", "XQUEUE_VERSION", "CONFIGURATION_VERSION", "DEMO_VERSION",
  "INSIGHTS_VERSION", "ANALYTICS_API_VERSION", "ECOMMERCE_VERSION", "ECOMMERCE_WORKER_VERSION",
  "DISCOVERY_VERSION", "THEMES_VERSION", "MFE_DEPLOY_VERSION", "RETIREMENT_SERVICE_VERSION",
] as const;

/** The Ubuntu release native.sh accepts on every supported branch. */
export const NATIVE_UBUNTU = "20.04";

/** native.sh's pins on the release's branch. */
export function nativePins(r: OpenedxRelease): { pip: string; setuptools: string; virtualenv: string } {
  return { pip: ["maple", "nutmeg"].includes(r.name) ? "20.3.4" : "21.2.1", setuptools: "44.1.0", virtualenv: "20.2.0" };
}

/**
 * The services of openedx_native.yml an Ocim instance does not run, switched off (the play turns
 * ecommerce, discovery, the analytics API and insights on). An operator who wants one sets its
 * flag to true in the instance's extra variables. Redis (the Celery broker) and the search
 * servers stay as the play has them: the LMS needs them.
 */
const SERVICES_OFF = {
  SANDBOX_ENABLE_ECOMMERCE: false,
  SANDBOX_ENABLE_DISCOVERY: false,
  SANDBOX_ENABLE_ANALYTICS_API: false,
  SANDBOX_ENABLE_INSIGHTS: false,
  SANDBOX_ENABLE_NOTES: false,
  SANDBOX_ENABLE_BLOCKSTORE: false,
};

/** The release of a native instance; AppError("rule") for one openedx/configuration has no branch for (recipe-release.ts has the rule). */
export function nativeRelease(name: string): OpenedxRelease & { configurationBranch: string } {
  const problem = recipeReleaseProblem("native", name);
  if (problem) throw new AppError("rule", problem);
  const r = findRelease(name)!;
  return { ...r, configurationBranch: r.configurationBranch! };
}

/**
 * A branch setting of the instance, or the release's branch when it is blank or "master": master
 * of edx-platform is newer than any release and master of openedx/configuration is the archived
 * head after Quince, so neither builds a named release. Any other branch (a fork's) is kept.
 */
function branchOr(value: string, r: OpenedxRelease): string {
  const branch = value.trim();
  return branch === "" || branch === "master" ? releaseBranch(r) : branch;
}

export function nativeConfigurationBranch(instance: Pick<RecipeInstance, "configurationBranch" | "openedxRelease">): string {
  return branchOr(instance.configurationBranch, nativeRelease(instance.openedxRelease));
}

/**
 * native.sh's preparation as one POSIX shell command, run in the configuration clone before the
 * playbook (remote.ts runs it in the same shell, then `sudo -E` the ansible-playbook it leaves
 * first on PATH). Differences, each for a reason:
 * - ansible goes into a virtualenv next to the clone (../ansible-venv), as ansible-bootstrap.sh
 *   does, not into the system Python: the playbook's own roles pip-install into the system one;
 * - a wrong Ubuntu fails the launch (native.sh prints and exits 0, which would look like success);
 * - no `apt-get upgrade` (it can stop at a configuration prompt with nobody to answer) and no
 *   toolchain PPA (native.sh adds it for insights, which Ocim switches off); `apt-get remove
 *   python-yaml` is left out: focal has no such package, and the removal would fail the chain.
 */
export function nativeBootstrap(r: OpenedxRelease): string {
  const pins = nativePins(r);
  // A fresh cloud VM often runs unattended-upgrades at first boot: wait for its lock, not fail.
  const apt = "sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600";
  const packages = "build-essential software-properties-common curl git-core libxml2-dev libxslt1-dev python3-pip libmysqlclient-dev python3-apt python3-dev libxmlsec1-dev libfreetype6-dev swig gcc g++";
  return [
    `# openedx/configuration's native installer (util/install/native.sh at ${releaseBranch(r)}), as Ocim runs it.`,
    `release=$(lsb_release -rs) && if [ "$release" != ${NATIVE_UBUNTU} ]; then echo "The native recipe installs ${r.name} on Ubuntu ${NATIVE_UBUNTU} only (openedx/configuration's native installer checks for it); this VM runs $(lsb_release -ds). Use an Ubuntu ${NATIVE_UBUNTU} image, or the tutor recipe." >&2; false; fi &&`,
    `${apt} update -y &&`,
    `${apt} install -y ${packages} &&`,
    `sudo -H pip3 install --upgrade pip==${pins.pip} &&`,
    `sudo -H pip3 install --upgrade setuptools==${pins.setuptools} &&`,
    `sudo -H pip3 install --upgrade virtualenv==${pins.virtualenv} &&`,
    `venv="$(dirname "$PWD")/ansible-venv" && virtualenv --python=python3 "$venv" &&`,
    `if [ -f requirements/pip.txt ]; then "$venv/bin/pip" install -r requirements/pip.txt --exists-action w; fi &&`,
    `"$venv/bin/pip" install -r requirements.txt --exists-action w &&`,
    // Only PATH, not a whole `activate`: VIRTUAL_ENV would reach the roles' own pip tasks through sudo -E.
    `PATH="$venv/bin:$PATH" && export PATH`,
  ].join("\n");
}

/**
 * The MFEs on their own host name need what mfe_deployer's README ("Comprehensive Example of a
 * deployment using subdirectories", open-release/quince.master) sets beside MFE_BASE: the session
 * and cross-domain CSRF cookies on the parent domain (the MFEs read the JWT cookie the LMS sets),
 * secure cookies and the MFE links on https when the balancer serves HTTPS (on http, and cookies
 * a browser sends over HTTP, when it does not: BaseParts.https). Django 4.2 (Quince) takes
 * CSRF_TRUSTED_ORIGINS with their scheme from CSRF_TRUSTED_ORIGINS_WITH_SCHEME
 * (openedx/edx-platform#33226), which configuration has no variable for: it goes through
 * EDXAPP_ENV_EXTRA (merged into lms.yml and cms.yml; an older release ignores the key).
 */
function mfeOnItsHost(instance: RecipeInstance, scheme: "https" | "http"): Record<string, unknown> {
  const apps = `${scheme}://${instance.appsDomain}`;
  return {
    EDXAPP_SESSION_COOKIE_DOMAIN: `.${instance.internalLmsDomain}`,
    EDXAPP_CROSS_DOMAIN_CSRF_COOKIE_DOMAIN: `.${instance.internalLmsDomain}`,
    EDXAPP_SESSION_COOKIE_SECURE: scheme === "https",
    EDXAPP_CSRF_COOKIE_SECURE: scheme === "https",
    EDXAPP_LMS_WRITABLE_GRADEBOOK_URL: `${apps}/gradebook`,
    EDXAPP_PROFILE_MICROFRONTEND_URL: `${apps}/profile/u/`,
    EDXAPP_ENV_EXTRA: { CSRF_TRUSTED_ORIGINS_WITH_SCHEME: [apps, `${scheme}://${instance.studioDomain}`] },
  };
}

export const nativeRecipe: RecipeDefinition = {
  kind: "native",
  label: "Native (openedx/configuration, up to Quince)",
  baseVariables: ({ instance, auth, sshUsers, parts }) => {
    const r = nativeRelease(instance.openedxRelease);
    const pin = releaseBranch(r);
    return {
      ...generateBaseVariables(instance, auth, sshUsers, parts),
      ...Object.fromEntries(NATIVE_VERSION_VARS.map((name) => [name, pin])),
      // The instance's fork and branch of edx-platform win (edx_platform_repo is in the base).
      EDX_PLATFORM_VERSION: branchOr(instance.edxPlatformBranch, r),
      CONFIGURATION_VERSION: nativeConfigurationBranch(instance),
      ...SERVICES_OFF,
      // The balancer sends every domain of the instance to port 80 (DESIGN §3), with Host kept:
      // nginx tells Studio and the MFEs apart by host name instead of by port.
      EDXAPP_LMS_NGINX_PORT: 80,
      EDXAPP_CMS_NGINX_PORT: 80,
      CMS_HOSTNAME: instance.studioDomain,
      MFE_DEPLOY_NGINX_PORT: 80,
      MFE_DEPLOY_COMMON_HOSTNAME: instance.appsDomain,
      MFE_BASE: instance.appsDomain,
      ...mfeOnItsHost(instance, siteScheme(parts)),
      // The balancer terminates TLS (when it serves HTTPS) and sets X-Forwarded-For/Proto; nginx must pass them on.
      EDXAPP_LMS_BASE_SCHEME: siteScheme(parts),
      NGINX_SET_X_FORWARDED_HEADERS: false,
    };
  },
  playbook: (instance) => {
    const r = nativeRelease(instance.openedxRelease);
    return {
      repoUrl: instance.configurationRepoUrl.trim() || NATIVE_CONFIGURATION_REPO,
      branch: nativeConfigurationBranch(instance),
      path: instance.playbookPath.trim() || NATIVE_PLAYBOOK,
      bootstrapCommand: instance.bootstrapCommand.trim() ? instance.bootstrapCommand : nativeBootstrap(r),
      sudo: true,
    };
  },
};
