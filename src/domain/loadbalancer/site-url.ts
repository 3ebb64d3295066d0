// The address a visitor opens for one of an instance's domains, as its balancer serves it
// (render-config.ts): HTTPS once the instance has a certificate on a balancer that serves HTTPS
// (HTTP then redirects to it), plain HTTP otherwise. The port is the one the balancer listens on:
// the local balancer's LB_HTTP_PORT or LB_HTTPS_PORT, an ssh balancer's httpsBind; an ssh
// balancer's HTTP frontend is the operator's own (docs/load-balancer.md), taken to be on port 80.
import type { Config } from "../../config.js";
import { servesHttps } from "./render-input.js";

/** What siteUrl reads of an instance (a Prisma select). */
export const SITE_ROUTE_SELECT = {
  loadBalancer: { select: { kind: true, httpsBind: true } },
  certificate: { select: { certificatePem: true } },
} as const;

export interface SiteRoute {
  loadBalancer: { kind: string; httpsBind: string } | null;
  certificate: { certificatePem: string } | null;
}

/**
 * Whether the instance's site is served over HTTPS: its balancer serves HTTPS and the instance has a
 * certificate, or, with `acme` (ACME_DIRECTORY_URL is set), will have one once the site is served.
 */
export function servedOverHttps(route: SiteRoute, acme = false): boolean {
  return route.loadBalancer !== null && servesHttps(route.loadBalancer) && (Boolean(route.certificate?.certificatePem) || acme);
}

export function siteUrl(config: Pick<Config, "LB_HTTP_PORT" | "LB_HTTPS_PORT">, route: SiteRoute, domain: string): string {
  return urlAt(config, route.loadBalancer, domain, servedOverHttps(route));
}

/**
 * The origins browsers load the site from (the scheme, the domain and the balancer's port), for a
 * storage bucket's CORS: siteUrl's for each domain, and on a balancer that serves HTTPS while the
 * instance has no certificate yet its HTTPS one too: the site moves there once one is issued (ACME)
 * or uploaded, which sets no bucket's CORS.
 */
export function siteOrigins(config: Pick<Config, "LB_HTTP_PORT" | "LB_HTTPS_PORT">, route: SiteRoute, domains: string[]): string[] {
  const https = servedOverHttps(route);
  const soon = !https && route.loadBalancer !== null && servesHttps(route.loadBalancer);
  return domains.flatMap((domain) => (soon ? [false, true] : [https]).map((secure) => urlAt(config, route.loadBalancer, domain, secure)));
}

function urlAt(config: Pick<Config, "LB_HTTP_PORT" | "LB_HTTPS_PORT">, balancer: SiteRoute["loadBalancer"], domain: string, https: boolean): string {
  let port = https ? 443 : 80;
  if (balancer?.kind === "local") port = https ? config.LB_HTTPS_PORT : config.LB_HTTP_PORT;
  else if (https) port = Number(balancer!.httpsBind.slice(balancer!.httpsBind.lastIndexOf(":") + 1));
  const standard = port === (https ? 443 : 80);
  return `${https ? "https" : "http"}://${domain}${standard ? "" : `:${port}`}`;
}
