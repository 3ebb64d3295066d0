// The names and credentials of an instance's data on the shared services (DESIGN §5b): derived from
// its slug and its master key, so every appserver of the instance, and every call, gets the same.
// Nothing here is stored: the passwords are recomputed from the master key whenever needed.
// The databases follow Open edX's own split (openedx/configuration's *_DB_NAME variables; the
// original Ocim's instance/models/mixins/openedx_database.py made the same per-instance set).
import { createHash } from "node:crypto";
import type { Config } from "../../config.js";
import type { Secrets } from "../../crypto.js";
import { siteOrigins, type SiteRoute } from "../loadbalancer/site-url.js";
import type { InstanceDataPlan } from "../../adapters/data/port.js";

export type { InstanceDataPlan };

/** MySQL databases by role, and the user (by role) granted each. */
export const MYSQL_DATABASES = [
  { role: "edxapp", user: "edxapp" },
  { role: "edxapp_csmh", user: "edxapp" },
  { role: "ecommerce", user: "ecommerce" },
  { role: "discovery", user: "discovery" },
  { role: "xqueue", user: "xqueue" },
  { role: "notes", user: "notes" },
  { role: "credentials", user: "credential" },
] as const;

/** MongoDB databases by role (the modulestore and contentstore; the forum), each with its own user. */
export const MONGODB_DATABASES = ["edxapp", "forum"] as const;

/** The slug as a database-name prefix: slugs are [a-z0-9-], so `-` → `_` keeps names distinct. */
export function dataPrefix(slug: string): string {
  return slug.replace(/-/g, "_");
}

/**
 * User names must fit MySQL's 32 characters: the prefix is cut to 13 and followed by 6 hex of the
 * slug's SHA-256, so two slugs that share their first 13 characters still get distinct users.
 */
export function userPrefix(slug: string): string {
  return `${dataPrefix(slug).slice(0, 13)}_${createHash("sha256").update(slug).digest("hex").slice(0, 6)}`;
}

export interface PlanSource {
  slug: string;
  secretKeyEncrypted: string;
}

/** What bucketOrigins reads of an instance (a Prisma select), beside its route (SITE_ROUTE_SELECT). */
export const ORIGIN_DOMAINS_SELECT = { internalLmsDomain: true, studioDomain: true, externalDomains: true } as const;

/**
 * The origins the bucket's CORS allows: the site's LMS, Studio and external domains as the balancer
 * serves them (siteOrigins: http on a balancer without HTTPS, https with a certificate, both before
 * one; the balancer's port when not the standard one), so the browser of an HTTP-only site is not refused.
 */
export function bucketOrigins(
  config: Pick<Config, "LB_HTTP_PORT" | "LB_HTTPS_PORT">, route: SiteRoute,
  instance: { internalLmsDomain: string; studioDomain: string; externalDomains: string[] },
): string[] {
  return siteOrigins(config, route, [...new Set([instance.internalLmsDomain, instance.studioDomain, ...instance.externalDomains].map((d) => d.toLowerCase()))]);
}

export function instanceDataPlan(secrets: Secrets, instance: PlanSource, corsOrigins: string[]): InstanceDataPlan {
  const master = secrets.decrypt(instance.secretKeyEncrypted);
  const password = (kind: string, user: string) => secrets.hmac(master, `data-password:${kind}:${user}`).slice(0, 32);
  const db = dataPrefix(instance.slug);
  const users = userPrefix(instance.slug);
  const mysqlUsers = [...new Set(MYSQL_DATABASES.map((d) => d.user))].map((role) => {
    const name = `${users}_${role}`;
    return { name, role, password: password("mysql", name), databases: MYSQL_DATABASES.filter((d) => d.user === role).map((d) => `${db}_${d.role}`) };
  });
  return {
    owner: instance.slug,
    mysql: {
      databases: MYSQL_DATABASES.map((d) => ({ name: `${db}_${d.role}`, role: d.role })),
      users: mysqlUsers,
    },
    mongodb: {
      databases: MONGODB_DATABASES.map((role) => ({ name: `${db}_${role}`, role })),
      users: MONGODB_DATABASES.map((role) => {
        const name = `${users}_${role}`;
        return { name, role, password: password("mongodb", name), database: `${db}_${role}` };
      }),
    },
    storage: {
      // Bucket names are global on AWS: 8 hex derived from the master key make the name the
      // instance's own without being guessable from its slug. [a-z0-9-], at most 54 characters.
      bucket: `ocim-${instance.slug}-${secrets.hmac(master, "data-bucket").slice(0, 8)}`,
      corsOrigins,
    },
  };
}
