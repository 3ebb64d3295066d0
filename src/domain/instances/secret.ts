// The per-instance master key (encrypted at rest) and what is derived from it: the basic-auth
// user and password of the test link, stable across the instance's appservers (DESIGN §5).
import { LRUCache } from "lru-cache";
import type { Secrets } from "../../crypto.js";
import { randomToken } from "../../crypto.js";

export function newInstanceSecret(secrets: Secrets): string {
  return secrets.encrypt(randomToken(32));
}

export interface BasicAuth {
  user: string;
  password: string;
}

/**
 * The pairs already derived, by sealed master key (each sealing has its own IV, so one instance's),
 * per SECRET_KEY's Secrets. A decryption and two HMACs were 3.3 % of the appserver page's CPU under
 * load (its authenticated link, every view; issue 17), and the balancer's configuration derives one
 * pair per instance of the fleet on every apply. Kept in the process that holds SECRET_KEY anyway.
 */
const derived = new WeakMap<Secrets, LRUCache<string, BasicAuth>>();

export function basicAuthFor(secrets: Secrets, instance: { secretKeyEncrypted: string }): BasicAuth {
  let pairs = derived.get(secrets);
  if (!pairs) derived.set(secrets, (pairs = new LRUCache({ max: 20_000 })));
  let auth = pairs.get(instance.secretKeyEncrypted);
  if (!auth) {
    const master = secrets.decrypt(instance.secretKeyEncrypted);
    auth = Object.freeze({
      user: secrets.hmac(master, "basic-auth-user").slice(0, 12),
      password: secrets.hmac(master, "basic-auth-password").slice(0, 24),
    });
    pairs.set(instance.secretKeyEncrypted, auth);
  }
  return auth;
}
