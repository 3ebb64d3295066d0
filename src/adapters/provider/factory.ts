// Builds the provider an appserver uses: local from the settings; openstack from the first
// ProviderAccount of that kind (its settings JSON and decrypted credentials). Synchronous, so a
// job can ask for one anywhere; the account is read on the first call, and read again after a
// failure (an admin may fix the account meanwhile).
import type { z } from "zod";
import type { Config } from "../../config.js";
import type { Secrets } from "../../crypto.js";
import type { Db } from "../../db.js";
import type { Logger } from "../../logger.js";
import { describeSchemaIssues } from "../../schema-issues.js";
import { createLocalProvider, type LocalProviderOptions } from "./local.js";
import { createOpenstackProvider } from "./openstack.js";
import type { OpenstackApiOptions } from "./openstack-api.js";
import { openstackCredentialsSchema, openstackSettingsSchema } from "./openstack-settings.js";
import { ProviderError, type Provider, type ProviderKind } from "./port.js";

/** What Deps (src/deps.ts) gives; named here so an adapter never imports the composition root. */
export interface ProviderDeps {
  config: Config;
  db: Db;
  secrets: Secrets;
  log: Logger;
  /** The injected clock: deadlines (a deletion's) count on it. */
  now: () => Date;
}

export function createProvider(deps: ProviderDeps, kind: ProviderKind | string): Provider {
  if (kind === "local") return createLocalProvider(localProviderOptions(deps));
  if (kind === "openstack") return lazyProvider("openstack", true, () => loadOpenstack(deps));
  throw new ProviderError(`There is no provider of kind "${kind}".`, false);
}

export function localProviderOptions({ config, log }: Pick<ProviderDeps, "config" | "log">): LocalProviderOptions {
  return {
    dataDir: config.dataDir,
    nodeEnv: config.NODE_ENV,
    addressPrefix: config.LOCAL_VM_ADDRESS_PREFIX,
    sshPort: config.LOCAL_VM_SSH_PORT,
    log,
  };
}

/** The OpenStack account Ocim uses: the first one made (the Orphans page names it). */
export function openstackAccountInUse(db: ProviderDeps["db"]) {
  return db.providerAccount.findFirst({
    where: { kind: "openstack" },
    orderBy: { id: "asc" },
    select: { name: true, settings: true, credentialsEncrypted: true },
  });
}

async function loadOpenstack(deps: ProviderDeps): Promise<Provider> {
  const account = await openstackAccountInUse(deps.db);
  if (!account) throw new ProviderError("No OpenStack provider account is configured: add one in the admin area.", false);
  return createOpenstackProvider(openstackOptions(deps, account));
}

/** The adapter's options from a stored account: its settings and decrypted credentials, checked against their schemas. */
export function openstackOptions(deps: Omit<ProviderDeps, "db">, account: { name: string; settings: unknown; credentialsEncrypted: string }): OpenstackApiOptions {
  const settings = openstackSettingsSchema.safeParse(account.settings);
  if (!settings.success) throw invalid(account.name, "settings", account.settings, settings.error.issues);
  let plain: unknown;
  try {
    plain = JSON.parse(deps.secrets.decrypt(account.credentialsEncrypted));
  } catch {
    // Neither the decryption nor the JSON error is passed on: JSON.parse quotes its input.
    throw new ProviderError(`The credentials of provider account "${account.name}" cannot be read (missing, or SECRET_KEY changed since they were saved).`, false);
  }
  const credentials = openstackCredentialsSchema.safeParse(plain);
  if (!credentials.success) throw invalid(account.name, "credentials", plain, credentials.error.issues);
  return {
    accountName: account.name,
    settings: settings.data,
    credentials: credentials.data,
    timeoutMs: deps.config.PROVIDER_API_TIMEOUT_SECONDS * 1000,
    log: deps.log,
    now: deps.now,
  };
}

/** Names the fields only: a value may be a secret. */
function invalid(account: string, part: string, raw: unknown, issues: z.ZodIssue[]): ProviderError {
  return new ProviderError(`The ${part} of provider account "${account}" are not valid: ${describeSchemaIssues(raw, issues)}.`, false);
}

function lazyProvider(kind: ProviderKind, isolated: boolean, load: () => Promise<Provider>): Provider {
  let loaded: Promise<Provider> | null = null;
  const provider = () => (loaded ??= load().catch((err: unknown) => ((loaded = null), Promise.reject(err))));
  return {
    kind,
    isolated,
    createServer: async (input) => (await provider()).createServer(input),
    getServer: async (id) => (await provider()).getServer(id),
    findServerByName: async (name) => (await provider()).findServerByName(name),
    listServers: async () => (await provider()).listServers(),
    deleteServer: async (id) => (await provider()).deleteServer(id),
    sshLogin: async () => (await provider()).sshLogin(),
  };
}
