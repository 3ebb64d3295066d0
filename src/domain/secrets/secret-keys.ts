// Which variable names hold secrets. A value is secret when any key above it (at any depth) is
// secret: the whole subtree under EDXAPP_FERNET_KEYS, a JWK dict, a list of OAuth secrets.
// Two rules: the name's last word is a secret word (…_PASSWORD, …_SECRET_KEYS, clientSecret,
// …_JWK, …_BASIC_AUTH), or the name is one of the Open edX names below that hold a secret
// although their last word says otherwise.

/** Last words that make a name secret. AUTH and CREDENTIALS are mostly booleans when they are not
 *  secrets (COMMON_ENABLE_BASIC_AUTH: true); booleans are never masked, see isMaskableValue. */
const SECRET_WORDS = new Set([
  "KEY", "KEYS", "SECRET", "SECRETS", "PASSWORD", "PASSWORDS", "PASSWD", "PASS", "PASSPHRASE",
  "TOKEN", "TOKENS", "APITOKEN", "APIKEY", "JWK", "CREDENTIALS", "AUTH", "SALT", "SALTS",
]);

/** A secret last word after one of these names something public: a celery ROUTING_KEY, an APT_KEY
 *  id, a PUBLIC_KEY, the users' authorized_keys (public SSH keys). */
const PUBLIC_QUALIFIERS = new Set(["ROUTING", "APT", "PUBLIC", "AUTHORIZED"]);

/**
 * Open edX names that hold secrets and that the last-word rule misses. How this list was made:
 * from the names defined by openedx/configuration (data/openedx-configuration-vars.tsv) and by
 * Tutor v21 (data/tutor-config-keys.tsv), every name
 * with a secret word (KEY, SECRET, PASSWORD, PASS, TOKEN, JWK, CREDENTIAL, AUTH, PRIVATE, SALT,
 * ENCRYPTION) anywhere but at the end, kept by hand when its value is a secret (ids, file paths,
 * cookie names and feature flags dropped). tests/secret-masking.test.ts checks each is a real name.
 */
export const OPENEDX_SECRET_NAMES: readonly string[] = [
  "EDXAPP_MYSQL_PASSWORD_ADMIN",
  "EDXAPP_MYSQL_PASSWORD_READ_ONLY",
  "EDXAPP_PROFILE_IMAGE_HASH_SEED",
  "EDXAPP_SOCIAL_AUTH_SAML_SP_PRIVATE_KEY_DICT",
  "JENKINS_ANALYTICS_USER_PASSWORD_PLAIN",
  "JENKINS_SAML_ENCRYPTION_DATA",
  "JENKINS_SECRET_FILES_LIST",
  "JENKINS_SECRET_TEXT_LIST",
  "JENKINS_USERNAME_PASSWORD_LIST",
  "MARIADB_CLUSTER_PASSWORD_ADMIN",
];
const LISTED = new Set(OPENEDX_SECRET_NAMES);

/** The words of a name: EDXAPP_JWT_PRIVATE_SIGNING_JWK, client-secret and clientSecret alike. */
function wordsOf(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
}

export function isSecretKey(name: string): boolean {
  if (LISTED.has(name.toUpperCase())) return true;
  const words = wordsOf(name);
  const last = words.at(-1);
  if (!last || !SECRET_WORDS.has(last)) return false;
  return !PUBLIC_QUALIFIERS.has(words.at(-2) ?? "");
}
