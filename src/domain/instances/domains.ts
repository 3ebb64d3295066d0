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

// toLowerCase() copies even a string that is lowercase already (measured: ~64 bytes per call).
const UPPERCASE_RE = /[A-Z]/;
const lowercase = (domain: string) => (UPPERCASE_RE.test(domain) ? domain.toLowerCase() : domain);

/** Every domain of an instance (what the load balancer routes), lowercased, without duplicates. */
export function allDomains(instance: { internalLmsDomain: string; externalDomains: string[] } & Record<PrefixedDomainField, string>): string[] {
  // Plain loops, no inner function: the balancer's render calls this for every instance
  // (bench/lb-config), and tsx wraps each inner arrow in a __name() call per invocation. An
  // instance has a handful of domains, so includes() beats building a Set.
  const out = [lowercase(instance.internalLmsDomain)];
  for (const field of PREFIXED_DOMAIN_FIELDS) {
    const lower = lowercase(instance[field]);
    if (!out.includes(lower)) out.push(lower);
  }
  for (const domain of instance.externalDomains) {
    const lower = lowercase(domain);
    if (!out.includes(lower)) out.push(lower);
  }
  return out;
}
