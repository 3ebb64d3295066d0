// Masking secret values in text: the one masker (docs/security.md, "What is secret, and where it is
// masked"). The domain decides which values are secret (src/domain/secrets/) and masks log lines,
// YAML and audit diffs with it; adapters mask what a service's error message echoes of the
// credentials they were given. It sits beside crypto.ts, outside the domain, so both can use it.
// URLs whose path or query is a secret (webhooks') are shown by maskUrl and masked in text by
// createUrlMasker, at the end.

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

// A URL in free text: its scheme, then everything up to a space, a quote or an angle bracket.
const ANY_URL_RE = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
// What ends a sentence after a URL, not the URL's own: "POST https://…/x." or "(see https://…/x)".
const TRAILING_PUNCTUATION_RE = /[.,;:!?)\]}]+$/;

/**
 * A URL as shown where its secret may not be: its origin, then MASK for whatever follows it. A
 * webhook's path or query often is its secret (Slack's /services/T…/B…/X…, a `?token=`), and a
 * user name and password are never shown. A URL with nothing after its origin is shown whole
 * ("https://example.com/"); text that is not a URL with an origin is MASK.
 */
export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  if (u.origin === "null") return MASK;
  const rest = u.username || u.password || u.pathname !== "/" || u.search || u.hash;
  return rest ? `${u.origin}/${MASK}` : `${u.origin}/`;
}

/**
 * The parts of a URL that maskUrl hides, as values for createMasker: the whole URL, its user name and
 * password, its path and query (whole, and each query value), and the path segments that look like a
 * token (a digit or a capital in them, or 16 characters or more: Slack's T…/B…/X…), each as written
 * and decoded. So a text that echoes a piece of it ("Cannot POST /services/T1/B2/X…") is masked too.
 * Plain words of a path ("services", "hooks") are left: masking them would garble every sentence.
 */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [url];
  }
  // Nothing after the origin: nothing to hide ("https://hooks.example.com/" stays as it is).
  if (!maskUrl(url).endsWith(MASK)) return [];
  const tokenLike = (s: string) => s.length >= MIN_SECRET_LENGTH && (/[0-9A-Z]/.test(s) || s.length >= 16);
  const segments = u.pathname.split("/").filter(tokenLike);
  const values = [...u.searchParams.values()].filter((v) => v.length >= MIN_SECRET_LENGTH);
  // A plain user name ("user", "admin") is hidden where it stands as one, before its ":" or "@",
  // not in every sentence that says "user"; a token used as the user name is hidden everywhere.
  const userinfo = u.username ? [`${u.username}:${u.password}@`, `${u.username}:${u.password}`, `${u.username}@`, `${u.username}:`] : [];
  const raw = [
    url, u.href, ...userinfo, tokenLike(u.username) ? u.username : "", u.password,
    u.pathname === "/" ? "" : u.pathname + u.search + u.hash, u.pathname === "/" ? "" : u.pathname, u.search, u.search.slice(1), u.hash,
    ...segments, ...values,
  ].filter(Boolean);
  return [...new Set(raw.flatMap((s) => [s, safeDecode(s)]))];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A masker for text about requests to a URL (a webhook's errors): every URL in it shown as maskUrl
 * shows it, then `url`'s hidden parts wherever they are still found, then the usual shapes. Without
 * a URL, only the first and the last.
 */
export function createUrlMasker(url: string | null): Masker {
  const known = createMasker(url ? urlSecrets(url) : []);
  return (text) => known(text.replace(ANY_URL_RE, (found) => {
    const end = TRAILING_PUNCTUATION_RE.exec(found)?.[0] ?? "";
    return maskUrl(end ? found.slice(0, -end.length) : found) + end;
  }));
}
