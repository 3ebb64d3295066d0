// Secrets never reach a stored log line (DESIGN §7): the values we know (the basic-auth password,
// the secret values of the playbook variables) and the obvious shapes (`password: x`, URL
// credentials, Authorization headers) are masked before a line is written.
export const MASK = "••••••";


/** Shorter values cannot be masked without masking ordinary words all over the log. */
const MIN_SECRET_LENGTH = 4;

// `COMMON_HTPASSWD_PASS: x`, `"db_password": "x"`, `token=x`: the key, then the value (quoted or bare).
const KEY_VALUE_RE =
  /(\b[\w.-]*(?:pass|password|passwd|secret|token|_key)["']?\s*[:=]\s*)(?:"([^"]*)"|'([^']*)'|([^\s"',;}\])]+))/gi;
const URL_CREDENTIALS_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi;
const AUTHORIZATION_RE = /(authorization["']?\s*[:=]\s*["']?(?:basic|bearer|token)\s+)([^\s"',;]+)/gi;
// Most lines hold none of these words: one cheap test first keeps masking off the hot path.
const MAYBE_SECRET_RE = /pass|secret|token|_key|:\/\/|authorization/i;

export type Masker = (line: string) => string;

export function createMasker(secrets: readonly string[]): Masker {
  const known = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))]
    // Longest first, so a secret that contains another is masked whole.
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp);
  const knownRe = known.length ? new RegExp(known.join("|"), "g") : null;
  return (line) => {
    let out = knownRe ? line.replace(knownRe, MASK) : line;
    if (!MAYBE_SECRET_RE.test(out)) return out;
    out = out.replace(AUTHORIZATION_RE, `$1${MASK}`);
    out = out.replace(URL_CREDENTIALS_RE, `$1${MASK}@`);
    return out.replace(KEY_VALUE_RE, (_m, key: string, dq?: string, sq?: string, bare?: string) => {
      if (dq !== undefined) return dq === "" ? `${key}""` : `${key}"${MASK}"`;
      if (sq !== undefined) return sq === "" ? `${key}''` : `${key}'${MASK}'`;
      return bare === MASK ? `${key}${bare}` : `${key}${MASK}`;
    });
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
