// An instance's domains: the internal LMS domain and the prefixed ones derived from it
// (DESIGN §3). Each prefixed domain may be overridden; all are unique across instances.
export const PREFIXED_DOMAINS = {
  studioDomain: "studio",
  previewDomain: "preview",
  ecommerceDomain: "ecommerce",
  discoveryDomain: "discovery",
  appsDomain: "apps",
} as const;

export type PrefixedDomainField = keyof typeof PREFIXED_DOMAINS;
export const PREFIXED_DOMAIN_FIELDS = Object.keys(PREFIXED_DOMAINS) as PrefixedDomainField[];

export function derivePrefixedDomains(lmsDomain: string): Record<PrefixedDomainField, string> {
  const out = {} as Record<PrefixedDomainField, string>;
  for (const field of PREFIXED_DOMAIN_FIELDS) out[field] = `${PREFIXED_DOMAINS[field]}.${lmsDomain}`;
  return out;
}

/** RFC 1123 host name, lowercase, at least two labels, no trailing dot. */
export const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Every domain of an instance (what the load balancer routes), lowercased, without duplicates. */
export function allDomains(instance: { internalLmsDomain: string; externalDomains: string[] } & Record<PrefixedDomainField, string>): string[] {
  // A plain loop: the balancer's render calls this for every instance (bench/lb-config), and an
  // instance has a handful of domains, so includes() beats building a Set.
  const out = [instance.internalLmsDomain.toLowerCase()];
  const add = (domain: string) => {
    const lower = domain.toLowerCase();
    if (!out.includes(lower)) out.push(lower);
  };
  for (const field of PREFIXED_DOMAIN_FIELDS) add(instance[field]);
  for (const domain of instance.externalDomains) add(domain);
  return out;
}
