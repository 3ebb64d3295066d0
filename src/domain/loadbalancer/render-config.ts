// The HAProxy configuration of one load balancer, rendered from plain data (DESIGN §8): a map file
// (domain → backend) and a fragment with one backend per instance that has an active appserver,
// plus a maintenance backend for the others, and one naming the site per instance in maintenance.
// Pure and fast (bench/lb-config.ts: 5,000 instances in ~11 ms): pieces written into a Buffer (byte-writer.ts) without concatenating them, no templating.
// Every name starts with the balancer's fragmentName, so two consoles sharing one haproxy never clash.
import { createHash } from "node:crypto";
import { AppError } from "../../errors.js";
import { ByteWriter } from "./byte-writer.js";
import { acmeChallengeRule, backendNames, GENERATED_HEADER, SERVER_PREFIX, type RenderedFragment } from "../../adapters/haproxy/port.js";

export interface LbAppServer {
  id: number;
  /** The appserver's public IP (v4 or v6). */
  ip: string;
  httpPort: number;
}

export interface LbInstance {
  id: number;
  /** Lowercased; no two instances share one (the database's InstanceDomain key guarantees it). */
  domains: string[];
  /** Sent as Host by the health check: the internal LMS domain. */
  healthHost: string;
  /** "Basic <base64 user:password>": the instance's basic auth, injected unless the client sent one. */
  authorization: string;
  /** Active, running appservers with a public IP; empty → the maintenance backend. */
  appServers: LbAppServer[];
  /** The certificate chain then its private key (PEM), when the instance has one: HTTPS, and HTTP redirects to it. */
  certificatePem?: string;
  /**
   * Domains the certificate does not name (added since it was issued): they are not redirected to
   * HTTPS, where browsers would refuse the certificate, until one that names them is served.
   */
  uncoveredDomains?: string[];
  /** Set while the instance is in maintenance: the site's name, which its maintenance page shows on every domain. */
  maintenanceName?: string;
}

export interface LbRenderInput {
  fragmentName: string;
  instances: LbInstance[];
  /**
   * The ACME challenge map of an ssh balancer with HTTPS: its backends answer challenges themselves
   * (the operator's frontend is not Ocim's). A local balancer's frontend does it instead.
   */
  acmeMap?: string;
}

export const STICKY_COOKIE = "OCIMSRV";
export const HEALTH_CHECK_PATH = "/heartbeat";

/** Letters, digits, "-" and "_": safe inside every haproxy name, cookie value and file name. */
export const FRAGMENT_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
// Characters of an IPv4 or IPv6 address. Anything else (a space, a newline, a quote) could inject
// configuration lines, so it is refused here; a malformed address of these characters is left to
// `haproxy -c`, which says exactly what is wrong with it.
const IP_CHARS_RE = /^[0-9a-fA-F.:]{2,45}$/;
// A domain is written into the map file verbatim; one with a space or newline would corrupt it.
// The length is checked apart: a bounded {1,253} makes the regex ~1.7× slower (bench/lb-config).
const MAP_KEY_RE = /^[a-z0-9.-]+$/;
const isMapKey = (domain: string) => domain.length <= 253 && MAP_KEY_RE.test(domain);
// Goes between double quotes in the config.
const AUTHORIZATION_RE = /^Basic [A-Za-z0-9+/=]+$/;

// Single-quoted in the config: haproxy expands nothing inside single quotes (no $VAR, no escapes),
// so the page must not contain a single quote.
const PAGE_HEAD = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>';
const PAGE_BODY = '</title></head><body style="font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.5">';
const MAINTENANCE_PAGE =
  `${PAGE_HEAD}Down for maintenance${PAGE_BODY}` +
  "<h1>This site is down for maintenance</h1><p>It will be back shortly. Please try again in a few minutes.</p></body></html>";
// "Retry-After: 120": browsers ignore it, but crawlers and monitors come back instead of dropping the site.
const MAINTENANCE_RETURN = 'http-request return status 503 content-type "text/html; charset=utf-8" hdr Retry-After 120 hdr Cache-Control no-store string';
const SERVER_LINE = `  server ${SERVER_PREFIX}`;

export function renderFragment(input: LbRenderInput): RenderedFragment {
  const { fragmentName } = input;
  if (!FRAGMENT_NAME_RE.test(fragmentName)) {
    throw new AppError("validation", `The fragment name "${fragmentName}" must be 1-40 lowercase letters, digits, "-" or "_".`);
  }
  const domainCount = checkDomains(input.instances);
  const names = backendNames(fragmentName);
  // Sized from the input (measured: ~45 bytes per map line, ~900 per backend), so the Buffers are
  // allocated once instead of doubling their way up.
  const certificates: RenderedFragment["certificates"] = [];
  const map = new ByteWriter(1024 + domainCount * 64).write(`${GENERATED_HEADER}\n`);
  const challenge = input.acmeMap ? `  ${acmeChallengeRule(input.acmeMap)}\n` : "";
  const backends = new ByteWriter(4096 + input.instances.length * 1024).write(`${GENERATED_HEADER}\n\n`).write(maintenanceBackend(names.maintenance, challenge));
  for (const instance of input.instances) {
    const inMaintenance = instance.maintenanceName !== undefined;
    const serving = !inMaintenance && instance.appServers.length > 0;
    const backend = inMaintenance ? names.inMaintenance(instance.id) : serving ? names.instance(instance.id) : names.maintenance;
    const toBackend = " " + backend + "\n";
    for (const domain of instance.domains) map.write(domain).write(toBackend);
    if (serving) writeInstanceBackend(backends, names, backend, instance, challenge);
    else if (inMaintenance) backends.write(siteMaintenanceBackend(backend, instance.maintenanceName!, challenge));
    if (instance.certificatePem) certificates.push(certificateFile(fragmentName, instance.id, instance.certificatePem));
  }
  return { fragmentName, map: map.toBuffer(), backends: backends.toBuffer(), certificates };
}

/**
 * Every domain is a safe map key; returns how many there are. That no domain belongs to two
 * instances is the database's rule (the InstanceDomain table's key, kept by a trigger on every
 * write of an instance), so it is not checked again here: in a Set of 35,000 new strings that
 * was a quarter of a render (bench/lb-config: 13.6-17.8 ms with it, 9.9-12.3 ms without).
 */
function checkDomains(instances: LbInstance[]): number {
  let count = 0;
  for (const instance of instances) {
    for (const domain of instance.domains) {
      if (!isMapKey(domain)) throw new AppError("validation", `Instance ${instance.id} has an invalid domain ${JSON.stringify(domain)}.`);
    }
    count += instance.domains.length;
  }
  return count;
}

// The constant runs of an instance backend, joined once here rather than for each of thousands of
// backends (measured: a template with one substitution per name makes this part ~1.7× slower).
// The forwarded headers are the balancer's own, whatever a client sent (a forged X-Forwarded-For
// would otherwise reach Open edX as the visitor's address): X-Forwarded-For is deleted, then
// `option forwardfor` adds the client's address once, after the http-request rules, even when the
// frontend or defaults have it too. `set-header X-Forwarded-For %[src]` would not do: with
// `option forwardfor` in the defaults (Ocim's local config has it, an operator's may) haproxy 2.6
// appends a second header after it (measured). X-Forwarded-Proto says whether the visitor's
// connection to this haproxy was TLS (ssl_fc). Host is passed as the client sent it, untouched:
// Tutor's Caddy and the native nginx route by it.
// With a certificate, a visit over HTTP is sent to HTTPS (the frontend answers ACME challenges before
// any backend, so they stay on HTTP), and the sticky cookie is `secure`: never sent in clear.
// `httponly` either way: no script of the site needs to read which appserver it is on.
const BALANCE = "  balance roundrobin\n  option redispatch\n";
const COOKIE_LINE = `  cookie ${STICKY_COOKIE} insert indirect nocache httponly`;
const HTTP_SETTINGS = `${BALANCE}${COOKIE_LINE}\n`;
const HTTPS_SETTINGS = `${BALANCE}  http-request redirect scheme https code 301 unless { ssl_fc }\n${COOKIE_LINE} secure\n`;
const BACKEND_SETTINGS =
  "  http-request del-header X-Forwarded-For\n" +
  "  option forwardfor\n" +
  "  http-request set-header X-Forwarded-Proto https if { ssl_fc }\n" +
  "  http-request set-header X-Forwarded-Proto http unless { ssl_fc }\n" +
  '  http-request set-header Authorization "';
const AFTER_SET_HEADER =
  '" unless { req.hdr(authorization) -m found }\n' +
  "  option httpchk\n" +
  `  http-check send meth GET uri ${HEALTH_CHECK_PATH} ver HTTP/1.1 hdr Host `;
const AFTER_CHECK_SEND = '"\n  http-check expect status 200\n';

/** HTTPS_SETTINGS, but leaving on HTTP the domains the certificate does not name. */
function httpsSettings(instance: LbInstance): string {
  const uncovered = instance.uncoveredDomains ?? [];
  if (!uncovered.length) return HTTPS_SETTINGS;
  for (const domain of uncovered) {
    if (!isMapKey(domain)) throw new AppError("validation", `Instance ${instance.id} has an invalid domain ${JSON.stringify(domain)}.`);
  }
  const http = ` || { req.hdr(host),lower,word(1,:) -m str ${uncovered.join(" ")} }`;
  return HTTPS_SETTINGS.replace("unless { ssl_fc }\n", `unless { ssl_fc }${http}\n`);
}

function writeInstanceBackend(out: ByteWriter, names: ReturnType<typeof backendNames>, backend: string, instance: LbInstance, challenge: string): void {
  const { healthHost: host, authorization: auth } = instance;
  if (!isMapKey(host)) throw new AppError("validation", `Instance ${instance.id} has an invalid domain ${JSON.stringify(host)}.`);
  if (!AUTHORIZATION_RE.test(auth)) throw new AppError("validation", `Instance ${instance.id} has an invalid basic auth header.`);
  out.write("backend ").write(backend).write("\n  # ").write(host).write("\n").write(challenge)
    .write(instance.certificatePem ? httpsSettings(instance) : HTTP_SETTINGS).write(BACKEND_SETTINGS).write(auth).write(AFTER_SET_HEADER)
    .write(host).write(' hdr Authorization "').write(auth).write(AFTER_CHECK_SEND);
  // Server and cookie names as backendNames() makes them, written piece by piece.
  for (const appServer of instance.appServers) {
    const id = String(appServer.id);
    const { name, address } = serverAddress(appServer);
    out.write(SERVER_LINE).write(id).write("-").write(name).write(" ").write(address);
    out.write(" check cookie ").write(names.cookiePrefix).write(id).write("\n");
  }
  out.write("\n");
}

/** Named by the instance and a digest of its content, so a new certificate is a new file and the live one stays until the reload. */
function certificateFile(fragmentName: string, instanceId: number, pem: string): { name: string; pem: Buffer } {
  const digest = createHash("sha256").update(pem).digest("hex").slice(0, 16);
  return { name: `${fragmentName}-inst-${instanceId}-${digest}.pem`, pem: Buffer.from(pem) };
}

/** The server line's address, and the same in the server's name (backendNames().server: "10.1.2.3-80"). */
function serverAddress(appServer: LbAppServer): { name: string; address: string } {
  const { ip, httpPort } = appServer;
  if (!IP_CHARS_RE.test(ip)) {
    throw new AppError("validation", `AppServer ${appServer.id} has an invalid public IP ${JSON.stringify(ip)}.`);
  }
  if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) {
    throw new AppError("validation", `AppServer ${appServer.id} has an invalid HTTP port ${httpPort}.`);
  }
  const port = String(httpPort);
  return { name: `${ip}-${port}`, address: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}` };
}

function maintenanceBackend(name: string, challenge: string): string {
  return (
    `backend ${name}\n` +
    "  # Instances without an active appserver.\n" +
    challenge +
    `  ${MAINTENANCE_RETURN} '${MAINTENANCE_PAGE}'\n\n`
  );
}

// The name is typed by an admin: HTML-escaped, which also removes every single quote (the page sits
// between single quotes, where haproxy interprets nothing: configuration.txt §2.2, "Quoting and
// escaping"), and control characters (a newline would end the configuration line) become spaces.
const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const htmlText = (text: string) => text.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** The backend of an instance in maintenance: the same 503, with a page naming the site. */
function siteMaintenanceBackend(name: string, siteName: string, challenge: string): string {
  const site = htmlText(siteName);
  const page = `${PAGE_HEAD}${site}: down for maintenance${PAGE_BODY}<h1>${site} is under maintenance</h1>` +
    "<p>The site is down for maintenance. Please come back later.</p></body></html>";
  return `backend ${name}\n  # An instance in maintenance.\n${challenge}  ${MAINTENANCE_RETURN} '${page}'\n\n`;
}

/**
 * The frontend line an operator adds to a haproxy shared by several consoles (one per console):
 * it only routes the hosts that are in this console's map, leaving the others to the next rule.
 */
export function sharedFrontendRule(mapPath: string): string {
  const lookup = `req.hdr(host),lower,word(1,:),map(${mapPath})`;
  return `use_backend %[${lookup}] if { ${lookup} -m found }`;
}
