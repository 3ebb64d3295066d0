// The whole haproxy.cfg of a `local` balancer (the fragment comes from the domain's
// render-config.ts): global and defaults, the frontend, the backend for unknown hosts.
import { acmeChallengeRule, backendNames, GENERATED_HEADER, type RenderedFragment } from "./port.js";

export interface LocalFrontendOptions {
  mapPath: string;
  bind: string;
  port: number;
  statsSocket: string;
  /** HTTPS and ACME: the port TLS is served on, the map of challenge tokens, the crt-list of the fragment's certificates. */
  tls?: { httpsPort: number; acmeMap: string; crtList: string };
}

// Single-quoted in the config: haproxy expands nothing inside single quotes, so no single quote here.
const UNKNOWN_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>No site here</title></head>' +
  '<body style="font-family:sans-serif;max-width:40em;margin:4em auto;line-height:1.5">' +
  "<h1>No site is configured for this address</h1><p>Check the address you typed.</p></body></html>";

/**
 * The whole haproxy.cfg of a `local` balancer, which Ocim runs itself: global and defaults, one
 * frontend that routes by the map, a 404 backend for hosts that are not in it, and the fragment.
 * Returned as the parts to write one after the other: joining them would copy the fragment's
 * megabytes once more (~1 ms for 5,000 instances, measured in bench/lb-config).
 */
export function renderLocalConfig(fragment: RenderedFragment, options: LocalFrontendOptions): Buffer[] {
  const names = backendNames(fragment.fragmentName);
  const address = (port: number) => (options.bind.includes(":") ? `[${options.bind}]:${port}` : `${options.bind}:${port}`);
  const head = [
    GENERATED_HEADER,
    "global",
    `  stats socket ${options.statsSocket} mode 600 level admin`,
    // Without it a second haproxy on the same port would start and silently split the traffic
    // (SO_REUSEPORT); reloads do not need it, the master hands the sockets over (measured).
    "  noreuseport",
    // Old workers finish their requests after a reload, but not forever.
    "  hard-stop-after 2m",
    "",
    "defaults",
    "  mode http",
    "  option forwardfor",
    // After a reload the old worker answers the next request on an idle keep-alive connection with
    // "Connection: close" instead of closing it under the client (measured: no reset with it).
    "  option idle-close-on-response",
    "  timeout connect 5s",
    "  timeout client 60s",
    "  timeout server 120s",
    "  timeout http-request 10s",
    "  timeout http-keep-alive 10s",
    "  timeout queue 30s",
    "  timeout check 5s",
    "  default-server inter 2s fall 3 rise 2",
    "",
    `frontend ${names.frontend}`,
    `  bind ${address(options.port)}`,
    ...tlsLines(fragment, options.tls, address),
    // word(1,:) drops a :port from the Host header; the map holds lowercased domains.
    `  use_backend %[req.hdr(host),lower,word(1,:),map(${options.mapPath},${names.unknown})]`,
    "",
    `backend ${names.unknown}`,
    `  http-request return status 404 content-type "text/html; charset=utf-8" string '${UNKNOWN_PAGE}'`,
    "",
  ].join("\n");
  return [Buffer.from(head), fragment.backends];
}

/**
 * The TLS bind (only with at least one certificate: haproxy refuses an ssl bind without one) serves
 * every certificate of the crt-list, chosen by SNI among the names each certificate holds. ACME
 * HTTP-01 challenges (RFC 8555 §8.3: GET /.well-known/acme-challenge/<token> answers the key
 * authorization) are answered from a map Ocim fills at run time through the stats socket, before
 * any backend, so they work for every domain whether or not it has an appserver or a certificate.
 */
function tlsLines(fragment: RenderedFragment, tls: LocalFrontendOptions["tls"], address: (port: number) => string): string[] {
  if (!tls) return [];
  return [
    ...(fragment.certificates.length > 0 ? [`  bind ${address(tls.httpsPort)} ssl crt-list ${tls.crtList} alpn http/1.1`] : []),
    `  ${acmeChallengeRule(tls.acmeMap)}`,
  ];
}
