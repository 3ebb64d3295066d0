// Secrets at rest (instance master keys, provider credentials): AES-256-GCM under SECRET_KEY;
// and keys derived from SECRET_KEY for one purpose each (the session cookie's signing key).
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";

export interface Secrets {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
  /** HMAC-SHA256 of `message` under `key` (a key the caller holds, not SECRET_KEY). */
  hmac(key: string, message: string): string;
  /**
   * A key for one purpose, derived from SECRET_KEY: installs with different keys get different
   * ones, and changing SECRET_KEY changes every one (so rotating it ends every session).
   */
  derive(purpose: string): string;
}

/**
 * @param previousKeys earlier values of SECRET_KEY (SECRET_KEY_PREVIOUS) that decrypt() still
 *   accepts while `ocim reseal-secrets` re-encrypts under the current one. Nothing is derived from them.
 */
export function createSecrets(secretKey: string, previousKeys: string[] = []): Secrets {
  const key = createHash("sha256").update(secretKey).digest();
  const decryptionKeys = [key, ...previousKeys.map((k) => createHash("sha256").update(k).digest())];
  // HMAC keyed by SECRET_KEY itself, over a label no other use of the key shares (domain separation):
  // knowing one derived key tells nothing about SECRET_KEY, the encryption key or another purpose's key.
  const derived = (purpose: string) => createHmac("sha256", secretKey).update(`ocim.derive.v1:${purpose}`).digest("base64url");
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), body.toString("base64url")].join(".");
    },
    decrypt(sealed) {
      const [version, iv, tag, body] = sealed.split(".");
      if (version !== "v1" || !iv || !tag || body === undefined) throw new Error("not a sealed secret");
      let failure: unknown;
      // GCM's tag tells a wrong key apart: the first key whose tag checks out is the one.
      for (const candidate of decryptionKeys) {
        try {
          const decipher = createDecipheriv("aes-256-gcm", candidate, Buffer.from(iv, "base64url"));
          decipher.setAuthTag(Buffer.from(tag, "base64url"));
          return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
        } catch (err) {
          failure = err;
        }
      }
      throw failure;
    },
    hmac(k, message) {
      return createHmac("sha256", k).update(message).digest("hex");
    },
    derive: derived,
  };
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
