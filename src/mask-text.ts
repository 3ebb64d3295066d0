// Masking secret values in text: the one masker (docs/security.md, "What is secret, and where it is
// masked"). The domain decides which values are secret (src/domain/secrets/) and masks log lines,
// YAML and audit diffs with it; adapters mask what a service's error message echoes of the
// credentials they were given. It sits beside crypto.ts, outside the domain, so both can use it.

export const MASK = "••••••";
/** What an audit diff shows for a secret that is not the one it had before. */
export const CHANGED = `${MASK} (changed)`;

/**
 * From this length a secret is masked wherever it occurs, inside longer text too. A shorter one
 * (a test server's password "e", a PIN) is masked only where it stands alone: masking it inside
 * longer words ("connect", "127.0.0.1") would garble every message and show where its characters are.
 */
export const MIN_SECRET_LENGTH = 4;
const WORD = String.raw`[\p{L}\p{N}_]`;
// "127" in "127.0.0.1", "e" in "e.g." or "1" in "host:1" is part of a longer word or number, not on its own.
const ALONE_BEFORE = `(?<!${WORD})(?<!${WORD}[.:-])`;
const ALONE_AFTER = `(?!${WORD})(?![.:-]${WORD})`;

// `COMMON_HTPASSWD_PASS: x`, `"db_password": "x"`, `token=x`: the key, then the value (quoted or bare).
const KEY_VALUE_RE =
  /(\b[\w.-]*(?:pass|password|passwd|passphrase|secret|secrets|token|_key|_keys|jwk)["']?\s*[:=]\s*)(?:"([^"]*)"|'([^']*)'|([^\s"',;}\])]+))/gi;
const URL_CREDENTIALS_RE = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)(?=@)/gi;
// https://<token>@github.com/…: a long user name with no password is a token.
const URL_TOKEN_RE = /(\b[a-z][a-z0-9+.-]*:\/\/)([A-Za-z0-9_-]{20,})(?=@)/gi;
const AUTHORIZATION_RE = /(authorization["']?\s*[:=]?\s*["']?(?:basic|bearer|token)\s+)([^\s"',;]+)/gi;
// Tokens that say what they are: GitHub (ghp_, gho_, ghs_, ghu_, ghr_, github_pat_), GitLab, Slack, AWS key ids.
const TOKEN_SHAPE_RE = /()\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16})\b/g;
const SHAPES = [AUTHORIZATION_RE, URL_CREDENTIALS_RE, URL_TOKEN_RE, TOKEN_SHAPE_RE];
// Most log lines hold none of these: one cheap test first keeps the shapes off the hot path.
const MAYBE_SHAPED_RE = /pass|secret|token|_key|jwk|:\/\/|authorization|gh[pousr]_|github_pat_|glpat-|xox|AKIA/i;

export type Masker = (text: string) => string;

export interface MaskerOptions {
  /** The secrets as they were before a change: a secret not among them shows as CHANGED (audit diffs). */
  previous?: readonly string[];
}

/**
 * Masks the given secret values and the known shapes in a text. The values are compiled into one
 * regular expression (longest first, so a secret that contains another is masked whole): one pass
 * per line on the log pipeline's hot path however many secrets an appserver has. Short values get a
 * second expression of their own, built only when there are some: it needs the `u` flag for its
 * word boundaries, which the common case should not pay for.
 */
export function createMasker(secrets: readonly string[], opts: MaskerOptions = {}): Masker {
  const unique = [...new Set(secrets.filter(Boolean))].sort((a, b) => b.length - a.length);
  const long = unique.filter((s) => s.length >= MIN_SECRET_LENGTH);
  const short = unique.filter((s) => s.length < MIN_SECRET_LENGTH);
  const longRe = long.length ? new RegExp(long.map(escapeRegExp).join("|"), "g") : null;
  const shortRe = short.length ? new RegExp(`${ALONE_BEFORE}(?:${short.map(escapeRegExp).join("|")})${ALONE_AFTER}`, "gu") : null;
  const previous = opts.previous ? new Set(opts.previous) : null;
  const replacement = (value: string) => (previous && !previous.has(value) ? CHANGED : MASK);
  const known = (text: string, re: RegExp | null) => (re ? (previous ? text.replace(re, replacement) : text.replace(re, MASK)) : text);
  return (text) => {
    // A string replacement when nothing can be CHANGED: V8's fast path, ~2x a callback's speed on the log pipeline.
    let out = known(known(text, longRe), shortRe);
    if (!MAYBE_SHAPED_RE.test(out)) return out;
    for (const re of SHAPES) out = out.replace(re, (_m, before: string, value: string) => before + (isMasked(value) ? value : replacement(value)));
    return out.replace(KEY_VALUE_RE, (_m, key: string, dq?: string, sq?: string, bare?: string) => {
      if (dq !== undefined) return dq === "" || isMasked(dq) ? `${key}"${dq}"` : `${key}"${replacement(dq)}"`;
      if (sq !== undefined) return sq === "" || isMasked(sq) ? `${key}'${sq}'` : `${key}'${replacement(sq)}'`;
      return isMasked(bare!) ? `${key}${bare}` : `${key}${replacement(bare!)}`;
    });
  };
}

function isMasked(value: string): boolean {
  return value.startsWith(MASK);
}

/** The values in a text that have a secret's shape (a token in a bootstrap command's git URL…). */
export function shapedSecrets(text: string): string[] {
  const found: string[] = [];
  for (const re of [...SHAPES, KEY_VALUE_RE]) {
    for (const m of text.matchAll(re)) {
      const value = m[2] ?? m[3] ?? m[4];
      if (value && value.length >= MIN_SECRET_LENGTH) found.push(value);
    }
  }
  return found;
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
