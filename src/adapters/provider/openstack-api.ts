// Keystone v3 auth (password scoped to a project by name or id, or an application credential) and
// authenticated calls to the compute, image and network endpoints, over fetch with a timeout on
// every call. The token is reused until shortly before it expires; a 401 from Nova
// (revoked token) gets one fresh token and one retry. Errors say transient or permanent (read by
// the worker's one retry rule, src/jobs/retry.ts) and never carry the password, user name or token.
import type { Logger } from "../../logger.js";
import { createMasker } from "../../mask-text.js";
import type { OpenstackCredentials, OpenstackSettings } from "./openstack-settings.js";
import { ProviderError } from "./port.js";

export interface OpenstackApiOptions {
  accountName: string;
  settings: OpenstackSettings;
  credentials: OpenstackCredentials;
  timeoutMs: number;
  log?: Logger;
  /** The clock and the wait between polls (deletion); tests move a clock instead of sleeping. */
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** The catalog types Ocim calls: Nova, Glance, Neutron. */
export type OpenstackService = "compute" | "image" | "network";

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface OpenstackApi {
  /** 2xx and 404 are answered; anything else is thrown as a ProviderError. */
  call(service: OpenstackService, method: string, path: string, what: string, body?: unknown): Promise<ApiAnswer>;
  /** The endpoints of the token's catalog (signing in first when needed), for the connection test to show. */
  endpoints(): Promise<Partial<Record<OpenstackService, string>>>;
}

interface Token {
  value: string;
  expiresAt: number;
  /** Endpoint URL per service type, from the catalog (interface and region of the settings). */
  endpoints: Partial<Record<OpenstackService, string>>;
}

/** A token this close to its expiry is replaced rather than used for a call that may take a while. */
const EXPIRY_MARGIN_MS = 60_000;

export function createOpenstackApi(opts: OpenstackApiOptions): OpenstackApi {
  return new KeystoneSession(opts);
}

class KeystoneSession implements OpenstackApi {
  private token: Token | null = null;
  private pending: Promise<Token> | null = null;

  constructor(private readonly opts: OpenstackApiOptions) {}

  async call(service: OpenstackService, method: string, path: string, what: string, body?: unknown): Promise<ApiAnswer> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.currentToken();
      const base = token.endpoints[service];
      if (!base) throw noEndpoint(this.opts.settings, this.opts.accountName, service);
      const res = await this.send(method, `${base.replace(/\/+$/, "")}${path}`, what, { "x-auth-token": token.value }, body);
      const answer = { status: res.status, body: await readJson(res) };
      if (res.status === 401 && attempt === 1) {
        this.token = null; // revoked or expired early: one fresh token, one more try
        continue;
      }
      if (res.status === 401) throw new ProviderError(`OpenStack refused the token of provider account "${this.opts.accountName}" while ${what} (401).`, false);
      if (res.ok || res.status === 404) return answer;
      throw httpError(res.status, what, this.scrub(apiMessage(answer.body)));
    }
  }

  async endpoints(): Promise<Partial<Record<OpenstackService, string>>> {
    return { ...(await this.currentToken()).endpoints };
  }

  private async currentToken(): Promise<Token> {
    if (this.token && Date.now() < this.token.expiresAt - EXPIRY_MARGIN_MS) return this.token;
    // Calls made while a token is on its way share it.
    this.pending ??= this.authenticate().finally(() => (this.pending = null));
    this.token = await this.pending;
    return this.token;
  }

  private async authenticate(): Promise<Token> {
    const { settings, credentials, accountName } = this.opts;
    const what = `authenticating provider account "${accountName}"`;
    const url = `${settings.authUrl.replace(/\/+$/, "").replace(/\/v3$/, "")}/v3/auth/tokens`;
    const res = await this.send("POST", url, what, {}, authBody(settings, credentials, accountName));
    const body = await readJson(res);
    if (res.status === 401) throw new ProviderError(`OpenStack refused the credentials of provider account "${accountName}" (401).`, false);
    if (!res.ok) throw httpError(res.status, what, this.scrub(apiMessage(body)));
    const value = res.headers.get("x-subject-token");
    if (!value) throw new ProviderError(`Keystone answered ${what} without an X-Subject-Token header.`, false);
    const fresh = { value, ...readToken(body, settings) };
    if (!fresh.endpoints.compute) throw noEndpoint(settings, accountName, "compute");
    const expiresAt = new Date(fresh.expiresAt).toISOString();
    this.opts.log?.info({ event: "provider.openstack.authenticated", account: accountName, expiresAt }, "provider.openstack.authenticated");
    return fresh;
  }

  private async send(method: string, url: string, what: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
    const json: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
    try {
      return await fetch(url, {
        method,
        headers: { accept: "application/json", ...json, ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw networkError(err, what, new URL(url).host, this.opts.timeoutMs);
    }
  }

  /** An API message may repeat what it was sent (a user name in "could not find user …"). */
  private scrub(text: string): string {
    const { password, username, applicationCredentialSecret } = this.opts.credentials;
    const secrets = [password, username, applicationCredentialSecret, this.token?.value];
    return createMasker(secrets.filter((s): s is string => Boolean(s)))(text);
  }
}

/**
 * Identity v3 "Authenticating with an Application Credential" (id + secret; the credential is bound
 * to its project, and Keystone refuses a scope beside it) or "Password authentication with scoped
 * authorization" (project by id, or by name within its domain):
 * https://docs.openstack.org/api-ref/identity/v3/#authentication-and-token-management
 */
function authBody(settings: OpenstackSettings, credentials: OpenstackCredentials, account: string) {
  if (credentials.applicationCredentialId) {
    return { auth: { identity: { methods: ["application_credential"], application_credential: { id: credentials.applicationCredentialId, secret: credentials.applicationCredentialSecret } } } };
  }
  if (!settings.projectId && !settings.projectName) throw new ProviderError(`Password credentials need "projectName" or "projectId" in the settings of provider account "${account}".`, false);
  const project = settings.projectId ? { id: settings.projectId } : { name: settings.projectName, domain: { name: settings.projectDomainName } };
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: credentials.username, domain: { name: settings.userDomainName }, password: credentials.password } },
      },
      scope: { project },
    },
  };
}

interface CatalogEntry {
  type?: string;
  endpoints?: { interface?: string; region?: string; region_id?: string; url?: string }[];
}

/** Expiry and the endpoints (interface and region from the settings) from a token body. */
function readToken(body: unknown, settings: OpenstackSettings): Omit<Token, "value"> {
  const t = (body as { token?: { expires_at?: string; catalog?: CatalogEntry[] } }).token;
  const expiresAt = Date.parse(t?.expires_at ?? "");
  const endpointOf = (type: OpenstackService) =>
    (t?.catalog ?? [])
      .filter((entry) => entry.type === type)
      .flatMap((entry) => entry.endpoints ?? [])
      .find((e) => e.interface === settings.computeInterface && e.url && (!settings.region || e.region_id === settings.region || e.region === settings.region))?.url;
  const endpoints: Token["endpoints"] = {};
  for (const type of ["compute", "image", "network"] as const) {
    const url = endpointOf(type);
    if (url) endpoints[type] = url;
  }
  return { expiresAt: Number.isFinite(expiresAt) ? expiresAt : Date.now() + 3_600_000, endpoints };
}

function noEndpoint(settings: OpenstackSettings, account: string, service: OpenstackService): ProviderError {
  const where = settings.region ? ` in region ${settings.region}` : "";
  return new ProviderError(`The OpenStack catalog of provider account "${account}" has no ${settings.computeInterface} ${service} endpoint${where}.`, false);
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => "");
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** Nova wraps its message in a key named after the fault ({"badRequest": {"message": …}}); Keystone in "error". */
function apiMessage(body: unknown): string {
  if (!body || typeof body !== "object") return "";
  const b = body as Record<string, unknown>;
  if (typeof b.message === "string") return b.message.slice(0, 300);
  for (const value of Object.values(b)) {
    const m = (value as { message?: unknown } | null)?.message;
    if (typeof m === "string") return m.slice(0, 300);
  }
  return "";
}

/**
 * Whether a failed call may pass when repeated, by OpenStack's documented codes (Compute API
 * reference, "Create Server" and "Delete Server" response codes,
 * https://docs.openstack.org/api-ref/compute/; Identity v3, https://docs.openstack.org/api-ref/identity/v3/):
 * 5xx (but 501 Not Implemented), 408 and 429 (rate limited) may pass; 400, 401, 403 (also quota
 * exceeded), 404 and 413 will not. A 409 is both: Nova answers 409 for a request it refuses
 * (servers.py create(): NetworkAmbiguous "Multiple possible networks found", PortInUse,
 * InstanceExists, NoUniqueMatch) and for an instance busy with another task
 * (common.raise_http_conflict_for_instance_invalid_state: "Cannot 'delete' instance … while it is
 * in task_state deleting"), which passes once the task ends. Only the latter is retried.
 */
function httpError(status: number, what: string, message: string): ProviderError {
  const busy = status === 409 && /\btask_state\b/.test(message);
  const transient = (status >= 500 && status !== 501) || status === 408 || status === 429 || busy;
  return new ProviderError(`OpenStack answered ${status} while ${what}${message ? `: ${message}` : "."}`, transient, { status });
}

function networkError(err: unknown, what: string, host: string, timeoutMs: number): ProviderError {
  const e = err as { name?: string; cause?: { code?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return new ProviderError(`OpenStack (${host}) did not answer within ${timeoutMs / 1000} s while ${what}.`, true);
  }
  const code = e.cause?.code ?? "";
  const why = code === "ECONNREFUSED" ? "connection refused" : code === "ENOTFOUND" ? "unknown host" : code || "network error";
  return new ProviderError(`Could not reach OpenStack (${host}) while ${what}: ${why}.`, true);
}
