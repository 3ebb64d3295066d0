// The per-instance master key (encrypted at rest) and what is derived from it: the basic-auth
// user and password of the test link, stable across the instance's appservers (DESIGN §5).
import type { Secrets } from "../../crypto.js";
import { randomToken } from "../../crypto.js";

export function newInstanceSecret(secrets: Secrets): string {
  return secrets.encrypt(randomToken(32));
}

export interface BasicAuth {
  user: string;
  password: string;
}

export function basicAuthFor(secrets: Secrets, instance: { secretKeyEncrypted: string }): BasicAuth {
  const master = secrets.decrypt(instance.secretKeyEncrypted);
  return {
    user: secrets.hmac(master, "basic-auth-user").slice(0, 12),
    password: secrets.hmac(master, "basic-auth-password").slice(0, 24),
  };
}
